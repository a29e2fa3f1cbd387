from paytrack.domain.ids import new_id


def test_ids_carry_their_prefix_and_sort_in_creation_order():
    made = [new_id("pay") for _ in range(5000)]  # many share a millisecond
    assert all(i.startswith("pay_") and len(i) == 30 for i in made)
    assert made == sorted(made)
    assert len(set(made)) == len(made)
