"""sequence_loss, its four flags, the common means and gradient accumulation
in JAX.

Every result is checked against minigrad (run: python jax_sequence_loss.py).
Each check prints its outcome; the program ends with "all checks passed", or
exits with status 1 and names the checks that failed. Values are printed
with 6 decimals; the checks compare values with a relative tolerance of
1e-12 and gradients with 1e-11 (float64).
"""

import sys

import jax

# float64, so that the checks can be tight
jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import minigrad as mg  # noqa: E402

PAD = 0
LEGAL_FLAGS = [
    (1, 1, 0, 0),
    (0, 0, 1, 1),
    (1, 0, 0, 0),
    (0, 1, 0, 0),
    (0, 0, 1, 0),
    (0, 0, 0, 1),
    (0, 0, 0, 0),
]
failures = []


def check(what, ok):
    print(f"  check: {what}: {ok}")
    if not ok:
        failures.append(what)


def close(actual, expected, rtol=1e-12):
    return np.allclose(actual, expected, rtol=rtol, atol=1e-15)


def padded_batch(lengths, vocab, rng):
    """Random float64 logits [B, T, V], targets [B, T] (PAD after each
    length), mask [B, T].
    """
    time = max(lengths.max(), 1)
    mask = (np.arange(time) < lengths[:, None]).astype(np.float64)
    targets = np.where(
        mask > 0, rng.integers(1, vocab, size=mask.shape), PAD
    )
    return rng.normal(size=(len(lengths), time, vocab)), targets, mask


# -- TensorFlow Addons' sequence_loss, written with JAX ---------------------


def divide_no_nan(x, y):
    # the inner where keeps the unused branch finite, so its gradient is 0,
    # not NaN
    return jnp.where(y == 0, 0.0, x / jnp.where(y == 0, 1.0, y))


def token_cross_entropy(logits, targets):
    """[B, T, V] logits and [B, T] class ids -> [B, T] cross-entropy."""
    log_p = jax.nn.log_softmax(logits, axis=-1)
    return -jnp.take_along_axis(log_p, targets[..., None], axis=-1)[..., 0]


def sequence_loss(
    logits,
    targets,
    weights,
    average_across_timesteps=True,
    average_across_batch=True,
    sum_over_timesteps=False,
    sum_over_batch=False,
):
    ce = token_cross_entropy(logits, targets) * weights
    # a count
    nonzero = jax.lax.stop_gradient((weights != 0).astype(weights.dtype))
    if average_across_timesteps and average_across_batch:
        return divide_no_nan(ce.sum(), weights.sum())
    if sum_over_timesteps and sum_over_batch:
        return divide_no_nan(ce.sum(), nonzero.sum())
    if average_across_timesteps or average_across_batch:
        axis = 0 if average_across_batch else 1
        return divide_no_nan(ce.sum(axis), weights.sum(axis))
    if sum_over_timesteps or sum_over_batch:
        axis = 0 if sum_over_batch else 1
        return divide_no_nan(ce.sum(axis), nonzero.sum(axis))
    return ce


def check_flags(rng):
    """Value and gradient of every legal flag setting, with fractional
    weights and an empty row.
    """
    print("1. sequence_loss with every legal setting of its four flags")
    print("   (average_across_timesteps, average_across_batch,")
    print("   sum_over_timesteps, sum_over_batch), weights in [0.5, 1.5]")
    lengths = np.array([6, 3, 1, 0])
    *first, last = map(str, lengths)
    print(f"   on {len(lengths)} sequences of {', '.join(first)} and {last}"
          " tokens")
    logits, targets, mask = padded_batch(lengths, 5, rng)
    weights = mask * rng.uniform(0.5, 1.5, size=mask.shape)
    for f in LEGAL_FLAGS:
        z = mg.Tensor(logits, requires_grad=True)
        ours = mg.sequence_loss(z, targets, weights, *map(bool, f))
        upstream = rng.normal(size=ours.shape)
        (ours * upstream).sum().backward()

        def projected(x):
            return (
                sequence_loss(x, targets, weights, *map(bool, f)) * upstream
            ).sum()

        theirs = sequence_loss(
            jnp.asarray(logits), targets, weights, *map(bool, f)
        )
        gradient = jax.grad(projected)(jnp.asarray(logits))
        check(
            f"{' '.join(map(str, f))}, shape {tuple(theirs.shape)}, value"
            " and gradient = minigrad's",
            close(np.asarray(theirs), ours.numpy())
            and close(np.asarray(gradient), z.grad, rtol=1e-11),
        )


# -- the means of chapter 13 ------------------------------------------------


def check_means(rng):
    print("2. The means of chapter 13")
    logits, targets, mask = padded_batch(np.array([12, 6, 3, 1]), 6, rng)
    ce_w = token_cross_entropy(jnp.asarray(logits), targets) * mask
    got = {
        "token mean": ce_w.sum() / mask.sum(),
        "sum": ce_w.sum(),
        "sequence mean": (ce_w.sum(1) / mask.sum(1)).mean(),
    }
    expected = {
        "token mean": mg.sequence_loss(logits, targets, mask).item(),
        "sum": mg.sequence_loss(
            logits,
            targets,
            mask,
            average_across_timesteps=False,
            average_across_batch=False,
        )
        .numpy()
        .sum(),
        "sequence mean": mg.sequence_loss(
            logits, targets, mask, average_across_batch=False
        )
        .numpy()
        .mean(),
    }
    for name, value in got.items():
        print(f"  {name + ':':15}{float(value):.6f}")
    check(
        "each = minigrad's",
        all(close(float(got[name]), expected[name]) for name in got),
    )


# -- gradient accumulation done right ---------------------------------------


def check_accumulation(rng):
    """Two micro-batches of different real-token counts; the bigram model
    logits = table[inputs].
    """
    vocab = 6
    table0 = rng.normal(size=(vocab, vocab))
    micro = []
    for lengths in (np.array([9, 8, 8, 7]), np.array([3, 2, 2, 1])):
        _, targets, mask = padded_batch(lengths, vocab, rng)
        inputs = np.where(
            mask > 0, rng.integers(1, vocab, size=mask.shape), PAD
        )
        micro.append((inputs, targets, mask))
    counts = [int(m.sum()) for _, _, m in micro]
    print(
        "3. Gradient accumulation: micro-batches of "
        f"{' and '.join(map(str, counts))} real tokens"
    )

    # minigrad, the full batch (micro-batches padded to one length and
    # stacked)
    time = max(m[0].shape[1] for m in micro)
    full = [
        np.concatenate(
            [
                np.pad(m[i], ((0, 0), (0, time - m[i].shape[1])))
                for m in micro
            ]
        )
        for i in range(3)
    ]
    table = mg.Tensor(table0, requires_grad=True)
    mg.sequence_loss(table[full[0]], full[1], full[2]).backward()
    expected = table.grad

    # JAX: count the real tokens of the whole step first, then sum and divide
    # by that count
    real_tokens = sum(mask.sum() for _, _, mask in micro)

    def summed(table, inputs, targets, mask):
        return (token_cross_entropy(table[inputs], targets) * mask).sum()

    def mean(table, inputs, targets, mask):
        return summed(table, inputs, targets, mask) / mask.sum()

    grad_sum, grad_mean = jax.grad(summed), jax.grad(mean)
    right = sum(
        grad_sum(jnp.asarray(table0), *m) / real_tokens for m in micro
    )
    check(
        f"sums / {real_tokens:g}, gradients added = the full batch's",
        close(np.asarray(right), expected),
    )

    # the common mistake: the mean of the micro-batch means
    wrong = sum(grad_mean(jnp.asarray(table0), *m) for m in micro) / len(
        micro
    )
    error = np.linalg.norm(np.asarray(wrong) - expected) / np.linalg.norm(
        expected
    )
    print(
        "  the mean of the micro-batch means: relative error of the"
        f" gradient {error:.2f}"
    )
    check("that relative error is above 0.05", error > 0.05)


def main():
    rng = np.random.default_rng(0)
    check_flags(rng)
    print()
    check_means(rng)
    print()
    check_accumulation(rng)
    print()
    if failures:
        sys.exit(f"{len(failures)} checks failed: {failures}")
    print("all checks passed")


if __name__ == "__main__":
    main()
