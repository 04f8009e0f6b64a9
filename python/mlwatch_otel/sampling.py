"""Ground-truth sampling: the same deterministic decision as the TS SDK.

h = fmix32(fnv1a32(UTF-8 bytes of the request id)); sampled iff h / 2**32 < rate.
Every replica, in any language, picks the same requests (docs/sdk.md has the
test vectors; tests/test_sampling.py checks them).
"""

_MASK = 0xFFFFFFFF


def _utf8(s: str) -> bytes:
    # Pairs surrogates (as a JSON decoder may leave them) and turns lone ones
    # into U+FFFD, as JavaScript's TextEncoder does, so both SDKs hash the same bytes.
    return s.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace").encode("utf-8")


def fnv1a32(s: str) -> int:
    """FNV-1a (32-bit) over the UTF-8 encoding of s."""
    h = 0x811C9DC5
    for b in _utf8(s):
        h = ((h ^ b) * 0x01000193) & _MASK
    return h


def fmix32(h: int) -> int:
    """MurmurHash3's 32-bit finaliser."""
    h &= _MASK
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _MASK
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _MASK
    h ^= h >> 16
    return h


def request_id_hash(request_id: str) -> float:
    """The id's position in [0, 1): the same on every replica and in every process."""
    return fmix32(fnv1a32(request_id)) / 4294967296


def is_sampled(request_id: str, rate: float) -> bool:
    """Whether the prediction of request_id is sampled at rate (a fraction in [0, 1])."""
    if not rate > 0:
        return False
    if rate >= 1:
        return True
    return request_id_hash(request_id) < rate
