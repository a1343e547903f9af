"""sequence_loss, its four flags, Keras' reductions and gradient accumulation
in Keras 3.

Every result is checked against minigrad (run: python
keras_sequence_loss.py). Keras runs on JAX (the program sets KERAS_BACKEND
itself), in float32. Each check prints its outcome; the program ends with
"all checks passed", or exits with status 1 and names the checks that
failed. Values are printed with 4 decimals; the checks compare them with a
relative tolerance of 2e-5, and the weights after the SGD step with 1e-4.
"""

import os
import sys

# Keras 3 reads its backend (jax, torch or tensorflow) once, when it is
# imported
os.environ["KERAS_BACKEND"] = "jax"

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import ops  # noqa: E402

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
RTOL = 2e-5  # float32
failures = []


def check(what, ok):
    print(f"  check: {what}: {ok}")
    if not ok:
        failures.append(what)


def padded_batch(lengths, vocab, rng):
    """Random float32 logits [B, T, V], targets [B, T] (PAD after each
    length), mask [B, T].
    """
    time = max(lengths.max(), 1)
    mask = (np.arange(time) < lengths[:, None]).astype(np.float32)
    targets = np.where(
        mask > 0, rng.integers(1, vocab, size=mask.shape), PAD
    )
    return (
        rng.normal(size=(len(lengths), time, vocab)).astype(np.float32),
        targets,
        mask,
    )


# -- TensorFlow Addons' sequence_loss, written with keras.ops (any backend) -


def sequence_loss(
    logits,
    targets,
    weights,
    average_across_timesteps=True,
    average_across_batch=True,
    sum_over_timesteps=False,
    sum_over_batch=False,
):
    ce = (
        ops.sparse_categorical_crossentropy(
            targets, logits, from_logits=True
        )
        * weights
    )
    nonzero = ops.cast(ops.not_equal(weights, 0), weights.dtype)
    if average_across_timesteps and average_across_batch:
        return ops.divide_no_nan(ops.sum(ce), ops.sum(weights))
    if sum_over_timesteps and sum_over_batch:
        return ops.divide_no_nan(ops.sum(ce), ops.sum(nonzero))
    if average_across_timesteps or average_across_batch:
        axis = 0 if average_across_batch else 1
        return ops.divide_no_nan(ops.sum(ce, axis), ops.sum(weights, axis))
    if sum_over_timesteps or sum_over_batch:
        axis = 0 if sum_over_batch else 1
        return ops.divide_no_nan(ops.sum(ce, axis), ops.sum(nonzero, axis))
    return ce


def check_flags(rng):
    """The value of every legal flag setting, with fractional weights and an
    empty row.
    """
    print("1. sequence_loss with every legal setting of its four flags")
    print("   (average_across_timesteps, average_across_batch,")
    print("   sum_over_timesteps, sum_over_batch), weights in [0.5, 1.5]")
    lengths = np.array([6, 3, 1, 0])
    *first, last = map(str, lengths)
    print(f"   on {len(lengths)} sequences of {', '.join(first)} and {last}"
          " tokens")
    logits, targets, mask = padded_batch(lengths, 5, rng)
    weights = mask * rng.uniform(0.5, 1.5, size=mask.shape).astype(
        np.float32
    )
    for f in LEGAL_FLAGS:
        ours = mg.sequence_loss(
            logits, targets, weights, *map(bool, f)
        ).numpy()
        theirs = sequence_loss(
            ops.convert_to_tensor(logits),
            ops.convert_to_tensor(targets),
            ops.convert_to_tensor(weights),
            *map(bool, f),
        )
        check(
            f"{' '.join(map(str, f))}, shape {tuple(theirs.shape)}, value"
            " = minigrad's",
            np.allclose(ops.convert_to_numpy(theirs), ours, rtol=RTOL,
                        atol=1e-6),
        )


# -- Keras' reductions against the means of chapter 13 ----------------------


def check_reductions(rng):
    print("2. Keras' reductions and the means of chapter 13")
    logits, targets, mask = padded_batch(np.array([12, 6, 3, 1]), 6, rng)
    token_mean = mg.sequence_loss(logits, targets, mask).item()
    total = (
        mg.sequence_loss(
            logits,
            targets,
            mask,
            average_across_timesteps=False,
            average_across_batch=False,
        )
        .numpy()
        .sum()
    )

    def keras_loss(sample_weight=None, **kwargs):
        loss = keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, **kwargs
        )
        return float(loss(targets, logits, sample_weight=sample_weight))

    def show(name, value, expected, what):
        print(f"  {name + ':':36}{value:.4f}")
        check(what, np.isclose(value, expected, rtol=RTOL, atol=0))

    # the default divides by the number of entries, B * T, padding included
    real, entries = int(mask.sum()), mask.size
    print(f"  minigrad's token mean:              {token_mean:.4f}")
    show(
        "default, mask as sample_weight",
        keras_loss(mask),
        real / entries * token_mean,
        f"= {real} / {entries} of the token mean",
    )
    # these two give the token mean, and "sum" the sum
    show(
        '"mean_with_sample_weight", mask',
        keras_loss(mask, reduction="mean_with_sample_weight"),
        token_mean,
        "= the token mean",
    )
    show(
        "ignore_class=PAD",
        keras_loss(ignore_class=PAD),
        token_mean,
        "= the token mean",
    )
    show(
        '"sum", mask',
        keras_loss(mask, reduction="sum"),
        total,
        "= minigrad's sum",
    )


# -- gradient accumulation done right ---------------------------------------


def check_accumulation(rng):
    """Keras' optimizer option gradient_accumulation_steps=K averages the K
    micro-batch gradients.

    So each micro-batch's loss must be its sum times K / (real tokens of the
    whole step): the sample weights carry that factor, and reduction="sum"
    adds the weighted losses.
    """
    vocab = 6
    table0 = rng.normal(size=(vocab, vocab)).astype(np.float32)
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

    # minigrad: one SGD step with learning rate 1 on the full batch's token
    # mean
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
    expected = table0 - table.grad

    # Keras: the same bigram model (an Embedding whose rows are logits), K
    # micro-batches, one step
    k, real_tokens = len(micro), sum(mask.sum() for _, _, mask in micro)
    model = keras.Sequential(
        [
            keras.Input(shape=(None,), dtype="int32"),
            keras.layers.Embedding(vocab, vocab),
        ]
    )
    model.layers[0].set_weights([table0])
    model.compile(
        optimizer=keras.optimizers.SGD(
            learning_rate=1.0, gradient_accumulation_steps=k
        ),
        loss=keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, reduction="sum"
        ),
    )
    for inputs, targets, mask in micro:
        model.train_on_batch(
            inputs, targets, sample_weight=mask * (k / real_tokens)
        )
    check(
        f"sample weights {k} / {real_tokens:g}, one SGD step ="
        " minigrad's",
        np.allclose(
            model.layers[0].get_weights()[0], expected, rtol=1e-4, atol=1e-5
        ),
    )


def main():
    rng = np.random.default_rng(0)
    print(f"Keras on {keras.backend.backend()}")
    print()
    check_flags(rng)
    print()
    check_reductions(rng)
    print()
    check_accumulation(rng)
    print()
    if failures:
        sys.exit(f"{len(failures)} checks failed: {failures}")
    print("all checks passed")


if __name__ == "__main__":
    main()
