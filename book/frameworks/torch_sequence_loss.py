"""sequence_loss, its four flags, the common means and gradient accumulation
in PyTorch.

Every result is checked against minigrad (run: python
torch_sequence_loss.py). Each check prints its outcome; the program ends with
"all checks passed", or exits with status 1 and names the checks that
failed. Values are printed with 6 decimals; the checks compare values with a
relative tolerance of 1e-12 and gradients with 1e-11 (float64).
"""

import sys

import numpy as np
import torch
import torch.nn.functional as F

import minigrad as mg

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


# -- TensorFlow Addons' sequence_loss, written with PyTorch -----------------


def divide_no_nan(x, y):
    return torch.where(
        y == 0,
        torch.zeros_like(x),
        x / torch.where(y == 0, torch.ones_like(y), y),
    )


def sequence_loss(
    logits,
    targets,
    weights,
    average_across_timesteps=True,
    average_across_batch=True,
    sum_over_timesteps=False,
    sum_over_batch=False,
):
    batch, time, vocab = logits.shape
    ce = F.cross_entropy(
        logits.reshape(-1, vocab), targets.reshape(-1), reduction="none"
    )
    ce = (ce * weights.reshape(-1)).reshape(batch, time)
    # a count: no gradient flows through it
    nonzero = (weights != 0).to(weights.dtype)
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
        tz = torch.tensor(logits, requires_grad=True)
        theirs = sequence_loss(
            tz, torch.tensor(targets), torch.tensor(weights), *map(bool, f)
        )
        (theirs * torch.tensor(upstream)).sum().backward()
        check(
            f"{' '.join(map(str, f))}, shape {tuple(theirs.shape)}, value"
            " and gradient = minigrad's",
            close(theirs.detach().numpy(), ours.numpy())
            and close(tz.grad.numpy(), z.grad, rtol=1e-11),
        )


# -- the means of chapter 13 with PyTorch's own arguments -------------------


def check_means(rng):
    print("2. The means of chapter 13, with cross_entropy's own arguments")
    logits, targets, mask = padded_batch(np.array([12, 6, 3, 1]), 6, rng)
    # PyTorch: classes on axis 1
    by_class = torch.tensor(logits).permute(0, 2, 1)
    t = torch.tensor(targets)
    token_mean = F.cross_entropy(by_class, t, ignore_index=PAD)
    total = F.cross_entropy(by_class, t, ignore_index=PAD, reduction="sum")
    # [B, T]
    per_token = F.cross_entropy(
        by_class, t, ignore_index=PAD, reduction="none"
    )
    sequence_mean = (per_token.sum(1) / torch.tensor(mask).sum(1)).mean()

    none = dict(average_across_timesteps=False, average_across_batch=False)
    ce_w = mg.sequence_loss(logits, targets, mask, **none).numpy()
    expected = {
        "token mean": mg.sequence_loss(logits, targets, mask).item(),
        "sum": ce_w.sum(),
        "sequence mean": mg.sequence_loss(
            logits, targets, mask, average_across_batch=False
        )
        .numpy()
        .mean(),
    }
    got = {
        "token mean": token_mean,
        "sum": total,
        "sequence mean": sequence_mean,
    }
    for name, value in got.items():
        print(f"  {name + ':':15}{value.item():.6f}")
    check(
        "each = minigrad's",
        all(close(got[name].item(), expected[name]) for name in got),
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

    # PyTorch: count the real tokens of the whole step first, then sum and
    # divide by that count
    real_tokens = sum(
        int((torch.tensor(t) != PAD).sum()) for _, t, _ in micro
    )
    weights = torch.tensor(table0, requires_grad=True)
    for inputs, targets, _ in micro:
        logits = weights[torch.tensor(inputs)].permute(0, 2, 1)
        loss = F.cross_entropy(
            logits, torch.tensor(targets), ignore_index=PAD, reduction="sum"
        )
        # .grad adds the micro-batch gradients
        (loss / real_tokens).backward()
    check(
        f"sums / {real_tokens}, gradients added = the full batch's",
        close(weights.grad.numpy(), expected),
    )

    # the common mistake: the mean of the micro-batch means
    wrong = torch.tensor(table0, requires_grad=True)
    for inputs, targets, _ in micro:
        loss = F.cross_entropy(
            wrong[torch.tensor(inputs)].permute(0, 2, 1),
            torch.tensor(targets),
            ignore_index=PAD,
        )
        (loss / len(micro)).backward()
    error = np.linalg.norm(wrong.grad.numpy() - expected) / np.linalg.norm(
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
