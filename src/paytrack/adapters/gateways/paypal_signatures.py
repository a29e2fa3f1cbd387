"""PayPal's webhook signatures: verified locally with PayPal's own certificate, or by PayPal's
verification call.

PayPal signs each delivery (SHA256withRSA, PKCS#1 v1.5) over
``<transmission id>|<transmission time>|<webhook id>|<CRC32 of the raw body>``, the CRC32 as
an unsigned decimal, and names the certificate to verify it with in ``paypal-cert-url``.
That URL is sent by whoever posts the webhook, so it is trusted only over https from
``paypal.com`` or one of its subdomains (anything else is refused before any request); the
certificate is fetched with a timeout and a size limit, kept in a small in-process cache by
URL, and used only while it is valid. Online, PayPal itself answers whether the signature
is its own (``POST /v1/notifications/verify-webhook-signature``).

Every problem is a ``WebhookSignatureInvalid``: a forged, tampered, stale or unverifiable
delivery is answered the same way, and PayPal retries a delivery that was not accepted.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import zlib
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from paytrack.domain.errors import WebhookSignatureInvalid

AUTH_ALGO = "SHA256withRSA"
CERT_CACHE_SIZE = 16
HTTP_TIMEOUT_S = 10.0  # the certificate, the OAuth token and the verification call
CERT_SIZE_MAX_BYTES = 64 * 1024  # a PEM chain is a few kilobytes
# PayPal signs every delivery attempt afresh (it retries a refused one up to 25 times over
# 3 days, each with its own transmission time), so a signature older than this is a
# replay; duplicates within the window are caught by the event id.
TOLERANCE = timedelta(seconds=300)


@dataclass(frozen=True, slots=True)
class Transmission:
    """The signature headers of one delivery."""

    id: str
    time: str  # as sent: it is part of what is signed
    cert_url: str
    auth_algo: str
    signature: str


_HEADERS = {"id": "paypal-transmission-id", "time": "paypal-transmission-time",
            "cert_url": "paypal-cert-url", "auth_algo": "paypal-auth-algo",
            "signature": "paypal-transmission-sig"}


def read_transmission(headers: Mapping[str, str], now: datetime) -> Transmission:
    """The signature headers, all present, sent within ``TOLERANCE`` of ``now``."""
    lowered = {name.lower(): value.strip() for name, value in headers.items()}
    for header in _HEADERS.values():
        if not lowered.get(header):
            raise WebhookSignatureInvalid(f"the {header} header is missing")
    transmission = Transmission(**{field: lowered[header] for field, header in _HEADERS.items()})
    try:
        sent_at = datetime.fromisoformat(transmission.time)
        age = abs(now - sent_at)
    except (ValueError, TypeError) as exc:  # TypeError: a time without a time zone
        raise WebhookSignatureInvalid("paypal-transmission-time is not a date-time with a "
                                      "time zone") from exc
    if age > TOLERANCE:
        raise WebhookSignatureInvalid("paypal-transmission-time is more than "
                                      f"{int(TOLERANCE.total_seconds())} s from now")
    return transmission


def is_paypal_cert_url(url: str) -> bool:
    """https on the default port, no user part, and a host that is paypal.com or ends
    with .paypal.com."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    return (parts.scheme == "https" and port in (None, 443) and not parts.username
            and parts.password is None and (host == "paypal.com" or host.endswith(".paypal.com")))


class CertificateCache:
    """The certificates fetched so far, by URL, least recently used dropped first."""

    def __init__(self, size: int = CERT_CACHE_SIZE) -> None:
        self._size = size
        self._certs: OrderedDict[str, x509.Certificate] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, url: str) -> x509.Certificate | None:
        with self._lock:
            cert = self._certs.get(url)
            if cert is not None:
                self._certs.move_to_end(url)
            return cert

    def put(self, url: str, cert: x509.Certificate) -> None:
        with self._lock:
            self._certs[url] = cert
            self._certs.move_to_end(url)
            while len(self._certs) > self._size:
                self._certs.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._certs.clear()


# One per process: adapters are built per request, the certificates outlive them.
certificate_cache = CertificateCache()


def fetch_certificate(url: str, http: httpx.Client,
                      cache: CertificateCache = certificate_cache) -> x509.Certificate:
    """The signing certificate at ``url`` (the first of the PEM chain served there)."""
    if not is_paypal_cert_url(url):
        raise WebhookSignatureInvalid("paypal-cert-url is not an https URL on paypal.com")
    cached = cache.get(url)
    if cached is not None:
        return cached
    try:
        with http.stream("GET", url, timeout=HTTP_TIMEOUT_S,
                         follow_redirects=False) as response:
            if response.status_code != 200:
                raise WebhookSignatureInvalid(
                    f"PayPal's certificate could not be fetched (HTTP {response.status_code})")
            pem = bytearray()
            for chunk in response.iter_bytes():
                pem += chunk
                if len(pem) > CERT_SIZE_MAX_BYTES:
                    raise WebhookSignatureInvalid("PayPal's certificate is implausibly large")
    except httpx.HTTPError as exc:
        raise WebhookSignatureInvalid(
            f"PayPal's certificate could not be fetched ({type(exc).__name__})") from exc
    try:
        cert = x509.load_pem_x509_certificates(bytes(pem))[0]
    except ValueError as exc:
        raise WebhookSignatureInvalid("paypal-cert-url does not serve a PEM certificate") from exc
    cache.put(url, cert)
    return cert


def signed_message(transmission_id: str, transmission_time: str, webhook_id: str,
                   body: bytes) -> bytes:
    """What PayPal signs for one delivery."""
    crc = zlib.crc32(body) & 0xFFFFFFFF
    return f"{transmission_id}|{transmission_time}|{webhook_id}|{crc}".encode()


def verify_locally(body: bytes, transmission: Transmission, *, webhook_id: str,
                   http: httpx.Client, now: datetime,
                   cache: CertificateCache = certificate_cache) -> None:
    """Raise ``WebhookSignatureInvalid`` unless PayPal's certificate signed this delivery
    for ``webhook_id``."""
    if transmission.auth_algo.lower() != AUTH_ALGO.lower():
        raise WebhookSignatureInvalid(f"paypal-auth-algo {transmission.auth_algo!r} is not "
                                      f"{AUTH_ALGO}")
    try:
        signature = base64.b64decode(transmission.signature, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise WebhookSignatureInvalid("paypal-transmission-sig is not base64") from exc
    cert = fetch_certificate(transmission.cert_url, http, cache)
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise WebhookSignatureInvalid("PayPal's certificate is not valid now (expired or "
                                      "not yet valid)")
    key = cert.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise WebhookSignatureInvalid("PayPal's certificate does not hold an RSA key")
    message = signed_message(transmission.id, transmission.time, webhook_id, body)
    try:
        key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature as exc:
        raise WebhookSignatureInvalid("the PayPal signature does not match this delivery "
                                      "and webhook id") from exc


def verify_online(body: bytes, transmission: Transmission, *, webhook_id: str,
                  http: httpx.Client, api_base: str, access_token: str) -> None:
    """Ask PayPal. The event goes as received: PayPal checks the CRC32 of its bytes, which
    a re-serialization could change."""
    fields = json.dumps({
        "auth_algo": transmission.auth_algo, "cert_url": transmission.cert_url,
        "transmission_id": transmission.id, "transmission_sig": transmission.signature,
        "transmission_time": transmission.time, "webhook_id": webhook_id})
    try:
        payload = f'{fields[:-1]}, "webhook_event": {body.decode()}}}'
        response = http.post(f"{api_base}/v1/notifications/verify-webhook-signature",
                             content=payload.encode(), timeout=HTTP_TIMEOUT_S,
                             headers={"Authorization": f"Bearer {access_token}",
                                      "Content-Type": "application/json"})
        answer = response.json() if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError) as exc:  # ValueError: not UTF-8, not JSON
        raise WebhookSignatureInvalid("PayPal's verification call failed "
                                      f"({type(exc).__name__})") from exc
    verdict = answer.get("verification_status") if isinstance(answer, dict) else None
    if verdict != "SUCCESS":
        raise WebhookSignatureInvalid("PayPal did not verify this delivery ("
                                      f"{verdict or f'HTTP {response.status_code}'})")


def request_access_token(http: httpx.Client, api_base: str, client_id: str,
                         client_secret: str) -> tuple[str, int]:
    """An OAuth token (client credentials) for the verification call, and its lifetime in
    seconds."""
    try:
        response = http.post(f"{api_base}/v1/oauth2/token", timeout=HTTP_TIMEOUT_S,
                             auth=(client_id, client_secret),
                             data={"grant_type": "client_credentials"},
                             headers={"Accept": "application/json"})
        answer = response.json() if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError) as exc:
        raise WebhookSignatureInvalid("PayPal's OAuth token could not be had for the "
                                      f"verification call ({type(exc).__name__})") from exc
    token = answer.get("access_token") if isinstance(answer, dict) else None
    lifetime = answer.get("expires_in") if isinstance(answer, dict) else None
    if not isinstance(token, str) or not token:
        raise WebhookSignatureInvalid("PayPal refused the OAuth token for the verification "
                                      f"call (HTTP {response.status_code})")
    return token, lifetime if isinstance(lifetime, int) else 0
