"""Payment gateways: each adapter speaks its provider's units and maps them to paytrack's."""
