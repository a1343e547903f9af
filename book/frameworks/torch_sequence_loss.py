"""sequence_loss, its four flags, the common means and gradient accumulation
in PyTorch.

Every result is checked against minigrad (run: python
torch_sequence_loss.py).
"""

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
    logits, targets, mask = padded_batch(np.array([6, 3, 1, 0]), 5, rng)
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
        np.testing.assert_allclose(
            theirs.detach().numpy(), ours.numpy(), rtol=1e-12, atol=1e-15
        )
        np.testing.assert_allclose(
            tz.grad.numpy(), z.grad, rtol=1e-11, atol=1e-15
        )


# -- the means of chapter 13 with PyTorch's own arguments -------------------


def check_means(rng):
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
        np.testing.assert_allclose(
            value.item(), expected[name], rtol=1e-12, err_msg=name
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
    np.testing.assert_allclose(
        weights.grad.numpy(), expected, rtol=1e-12, atol=1e-15
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
    assert error > 0.05, error


def main():
    rng = np.random.default_rng(0)
    check_flags(rng)
    check_means(rng)
    check_accumulation(rng)
    print(
        f"PyTorch {torch.__version__}: sequence_loss, means and "
        "accumulation agree with minigrad"
    )


if __name__ == "__main__":
    main()
