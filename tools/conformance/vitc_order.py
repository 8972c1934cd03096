"""vitc-run's data order in Python: the permutation runtime/data's Loader
draws for (seed, epoch) with shuffling on (DataInternal.h: streamFor with
Purpose::Shuffle, splitmix64, Fisher-Yates in seededPermutation). Lets a
comparison feed PyTorch exactly the batches vitc-run trains on;
tests/e2e/test_train_trajectory.py checks it against vitc-run step by step."""

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_SHUFFLE = 1  # detail::Purpose::Shuffle


def _mix64(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


class _SplitMix64:
    def __init__(self, state):
        self.state = state

    def below(self, bound):
        """Uniform in [0, bound): draws under 2^64 mod bound are rejected."""
        threshold = ((1 << 64) - bound) % bound
        while True:
            self.state = (self.state + _GOLDEN) & _MASK
            r = _mix64(self.state)
            if r >= threshold:
                return r % bound


def permutation(count, seed, epoch=0):
    """The order of `count` training samples in epoch `epoch` (from 0) of a
    vitc-run with --seed `seed` (one rank, no validation split)."""
    h = _mix64((seed + _GOLDEN) & _MASK)
    for key in (_SHUFFLE, epoch, 0):
        h = _mix64(h ^ key)
    rng = _SplitMix64(h)
    order = list(range(count))
    for i in range(count - 1, 0, -1):
        j = rng.below(i + 1)
        order[i], order[j] = order[j], order[i]
    return order
