from mlwatch_otel import fmix32, fnv1a32, is_sampled, request_id_hash

# The vectors docs/sdk.md and docs/python.md publish, also checked by the TS SDK's tests.
VECTORS = [
    ("req-1", 0x4884BE10, 0.2832754887640476),
    ("order-42", 0x2E7B68D7, 0.18157057999633253),
    ("日本", 0xF004911F, 0.9375696850474924),
]


def test_fnv1a32_published_vectors():
    assert fnv1a32("") == 0x811C9DC5
    assert fnv1a32("a") == 0xE40C292C
    assert fnv1a32("foobar") == 0xBF9CF968


def test_fmix32():
    assert fmix32(0) == 0
    assert fmix32(1) == 0x514E28B7


def test_shared_vectors():
    for request_id, h, position in VECTORS:
        assert fmix32(fnv1a32(request_id)) == h, request_id
        assert request_id_hash(request_id) == position, request_id
        assert is_sampled(request_id, position + 1e-9)
        assert not is_sampled(request_id, position)
    assert is_sampled("req-1", 0.3) and not is_sampled("req-1", 0.25)


def test_lone_surrogate_hashes_as_replacement_character():
    # JavaScript's TextEncoder encodes a lone surrogate as U+FFFD.
    assert fnv1a32("a\ud800b") == fnv1a32("a\ufffdb")
    # A surrogate pair left by a decoder is the character it stands for.
    assert fnv1a32("\ud83d\ude00") == fnv1a32("\U0001f600")


def test_share_and_monotonicity():
    ids = [f"req-{i}" for i in range(20000)]
    for rate in (0.01, 0.1, 0.5):
        share = sum(is_sampled(i, rate) for i in ids) / len(ids)
        assert abs(share - rate) < 0.005 + rate * 0.05
    assert all(is_sampled(i, 0.2) for i in ids if is_sampled(i, 0.05))
    assert not any(is_sampled(i, 0) for i in ids)
    assert all(is_sampled(i, 1) for i in ids)
