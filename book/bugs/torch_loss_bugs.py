"""Two loss bugs inside PyTorch: cross_entropy with ignore_index.

Both use torch.nn.functional.cross_entropy with class-index targets on a
small float64 batch: N = 6 rows, C = 5 classes, three targets ignored.

1. Every target ignored (pytorch/pytorch#70348). With reduction='mean',
   the loss is the sum over the targets that are not ignored divided by
   their count. When every target equals ignore_index, that is 0 / 0:
   NaN. A guarded mean divides the sum by max(count, 1) instead: 0, with
   a zero gradient, and the usual mean whenever a target is left.

2. Label smoothing with ignored targets (pytorch/pytorch#73205). With
   label_smoothing = lam, the loss of a row with target y is

       (1 - lam) * (-log p[y]) + lam * mean over c of (-log p[c]).

   An ignored row must add nothing: neither its cross-entropy nor its
   smoothing term, and it must not count in the denominator of the
   mean. The program computes this formula by hand and compares it, value
   and gradient, with cross_entropy; it also prints the formula whose
   smoothing term counts the ignored rows, which is wrong.

Values are printed with 6 decimals; the checks compare values and
gradients to TOL = 1e-12. The program exits with status 1 if a check
fails.

Run: python torch_loss_bugs.py
"""

import sys

import torch
import torch.nn.functional as F

IGNORE = -100
N, C = 6, 5
LAM = 0.1  # the label-smoothing share
TOL = 1e-12
failures = []


def batch():
    """Random logits [N, C] and targets [N] with three ignored."""
    gen = torch.Generator().manual_seed(16)
    logits = torch.randn(N, C, generator=gen, dtype=torch.float64)
    targets = torch.tensor([3, 1, IGNORE, 4, IGNORE, IGNORE])
    return logits, targets


def check(what, ok):
    print(f"  check: {what}: {ok}")
    if not ok:
        failures.append(what)


def value_and_grad(loss_fn, logits):
    """loss_fn(z) at z = logits, and its gradient."""
    z = logits.clone().requires_grad_()
    loss = loss_fn(z)
    loss.backward()
    return loss.detach(), z.grad


def guarded_mean(z, targets):
    """The sum over the kept targets divided by max(count, 1)."""
    total = F.cross_entropy(z, targets, ignore_index=IGNORE,
                            reduction="sum")
    count = (targets != IGNORE).sum()
    return total / count.clamp(min=1)


def all_ignored():
    print("1. Every target ignored, reduction='mean'")
    logits, targets = batch()
    none = torch.full_like(targets, IGNORE)

    def mean(z):
        return F.cross_entropy(z, none, ignore_index=IGNORE)

    loss, grad = value_and_grad(mean, logits)
    print(f"  cross_entropy: {loss.item()}")
    print(f"  its gradient: NaN entries {int(grad.isnan().sum())},"
          f" zero entries {int((grad == 0).sum())} of {grad.numel()}")
    check("the mean is NaN", bool(loss.isnan()))

    loss, grad = value_and_grad(lambda z: guarded_mean(z, none), logits)
    print(f"  guarded mean, sum / max(count, 1): {loss.item()}")
    check("the guarded mean is 0 with a zero gradient",
          loss.item() == 0.0 and bool((grad == 0).all()))

    # With targets left, the guard changes nothing.
    right, g_right = value_and_grad(
        lambda z: F.cross_entropy(z, targets, ignore_index=IGNORE), logits)
    loss, grad = value_and_grad(lambda z: guarded_mean(z, targets), logits)
    same = (abs(loss - right) <= TOL and
            (grad - g_right).abs().max() <= TOL)
    print(f"  three targets kept: mean {right.item():.6f},"
          f" guarded {loss.item():.6f}")
    check(f"guarded = mean, value and gradient ({TOL})", bool(same))


def smoothed(z, targets, smoothing_rows):
    """Label-smoothed cross-entropy by hand, divided by the kept count.

    smoothing_rows selects the rows whose smoothing term is added: the
    kept rows (right) or all rows (the pattern of #73205).
    """
    keep = targets != IGNORE
    logp = F.log_softmax(z, dim=1)
    nll = -logp.gather(1, targets.clamp(min=0)[:, None])[:, 0]
    uniform = -logp.mean(dim=1)
    total = ((1 - LAM) * (nll * keep).sum()
             + LAM * (uniform * smoothing_rows).sum())
    return total / keep.sum()


def smoothing():
    print(f"2. Label smoothing {LAM} with three of {N} targets ignored")
    logits, targets = batch()
    keep = targets != IGNORE
    every = torch.ones_like(keep)

    torch_loss, torch_grad = value_and_grad(
        lambda z: F.cross_entropy(z, targets, ignore_index=IGNORE,
                                  label_smoothing=LAM), logits)
    hand, hand_grad = value_and_grad(
        lambda z: smoothed(z, targets, keep), logits)
    wrong, wrong_grad = value_and_grad(
        lambda z: smoothed(z, targets, every), logits)
    print(f"  cross_entropy:                     {torch_loss.item():.6f}")
    print(f"  by hand, kept rows only:           {hand.item():.6f}")
    print(f"  by hand, smoothing over all rows:  {wrong.item():.6f}")
    same = (abs(torch_loss - hand) <= TOL and
            (torch_grad - hand_grad).abs().max() <= TOL)
    check(f"cross_entropy = kept rows only, value and gradient"
          f" ({TOL})", bool(same))
    ignored_grad = torch_grad[~keep].abs().max().item()
    check("the ignored rows get a zero gradient", ignored_grad == 0.0)
    check("smoothing over all rows differs by more than 1e-3",
          abs(wrong - torch_loss).item() > 1e-3)


def main():
    torch.set_num_threads(1)
    all_ignored()
    print()
    smoothing()
    print()
    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
