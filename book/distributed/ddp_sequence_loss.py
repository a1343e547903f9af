"""One loss, many workers: the token mean of a batch that is split across
processes, with PyTorch's DistributedDataParallel (DDP).

One step of data-parallel training splits the batch across P workers
(ranks). Rank r holds W_r real tokens; the whole step holds W, the sum
of the W_r. We want the gradient of the token mean of the whole batch:

    g = (sum over all real tokens of grad ce) / W.

DDP runs backward on every rank, then *averages* the gradients over the
P ranks. So the loss of rank r must be its masked sum S_r times P / W,
with W all-reduced (summed over the ranks): the mean over the ranks of
grad(S_r) * P / W is g. With gradient accumulation, W counts the tokens
of all the micro-steps of the step, and each micro-batch's loss is its
masked sum times P / W.

This program runs the right recipe and common mistakes on P processes
(gloo backend, CPU, 127.0.0.1). It compares the gradient that DDP gives
rank 0 with the gradient of the whole batch in one process. A recipe
gives each token a weight; in units of the right weight 1 / W, this is
a fraction made of token counts. The one-process gradient with these
weights is the recipe's *prediction*, and DDP must agree with it to
rounding. "Off by" is max |g_recipe - g| / max |g|.

Run: python ddp_sequence_loss.py 2   (or 4: the number of processes)
"""

import datetime
import socket
import sys
import time
from collections.abc import Callable
from fractions import Fraction
from typing import NamedTuple

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP

PAD = 0
VOCAB, HIDDEN = 7, 5
# The real tokens of each sequence of the batch (the rest is padding).
LENGTHS = [9, 8, 7, 6, 5, 3, 2, 1]
MICRO_STEPS = 2  # for the recipes with gradient accumulation
TOL = 1e-12
TIMEOUT = 60  # seconds for any collective; the whole run gets twice this


def make_batch():
    """Inputs and targets [8, 9]: random tokens, PAD after each length."""
    rng = np.random.default_rng(0)
    real = np.arange(max(LENGTHS)) < np.array(LENGTHS)[:, None]
    inputs = np.where(real, rng.integers(1, VOCAB, real.shape), PAD)
    targets = np.where(real, rng.integers(1, VOCAB, real.shape), PAD)
    return torch.tensor(inputs), torch.tensor(targets)


def make_model():
    """Embedding + Linear in float64. The weights come from NumPy's
    uniform generator, so they are the same bits on every CPU.
    """
    rng = np.random.default_rng(1)
    model = nn.Sequential(
        nn.Embedding(VOCAB, HIDDEN), nn.Linear(HIDDEN, VOCAB)
    ).double()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.from_numpy(rng.uniform(-1, 1, p.shape)))
    return model


def plan(world, micro_steps, targets):
    """For each rank, its micro-batches as (rows of the batch, number of
    real tokens). Consecutive rows go to one rank, so the ranks hold
    different numbers of real tokens.
    """
    layout = []
    for r in np.array_split(np.arange(len(LENGTHS)), world):
        micro = np.array_split(r, micro_steps)
        layout.append([(m, int((targets[m] != PAD).sum())) for m in micro])
    return layout


def masked_sum(model, inputs, targets):
    """S: the sum of the cross-entropy over the real tokens."""
    logits = model(inputs)
    return F.cross_entropy(
        logits.reshape(-1, VOCAB),
        targets.reshape(-1),
        ignore_index=PAD,
        reduction="sum",
    )


def n_total(targets):
    return int((targets != PAD).sum())


class Step(NamedTuple):
    """What a rank knows when it computes the loss of one micro-batch."""

    P: int  # world size: the number of ranks
    K: int  # micro-steps per optimizer step
    W: int  # real tokens of the whole step: all ranks, all micro-steps
    W_r: int  # real tokens of this micro-batch on this rank (rank r)


class Recipe(NamedTuple):
    micro_steps: int  # K: 1, or MICRO_STEPS for gradient accumulation
    loss: Callable  # (s, Step) -> the loss of one micro-batch on a rank
    weight: Callable  # Step -> the weight of its tokens, x W (1 is right)


# DDP's gradient is the mean over the ranks of the gradients summed over
# the micro-steps, so a loss gamma * s gives each token the weight
# gamma * W / P.
RECIPES = {
    # P undoes DDP's mean over the ranks; W is the same on every rank.
    "right: s * P / W": Recipe(
        1, lambda s, c: s * c.P / c.W, lambda c: Fraction(1)
    ),
    # A rank with few tokens counts as much as a rank with many.
    "per-worker mean: s / W_r": Recipe(
        1, lambda s, c: s / c.W_r, lambda c: Fraction(c.W, c.P * c.W_r)
    ),
    # The right formula with the local count: P times the mistake above.
    "count not all-reduced: s * P / W_r": Recipe(
        1, lambda s, c: s * c.P / c.W_r, lambda c: Fraction(c.W, c.W_r)
    ),
    # A sum over the ranks was wanted, but DDP takes the mean.
    "world size missing: s / W": Recipe(
        1, lambda s, c: s / c.W, lambda c: Fraction(1, c.P)
    ),
    # P put in twice (for example by hand, and by a library that already
    # multiplies by it).
    "world size twice: s * P * P / W": Recipe(
        1, lambda s, c: s * c.P * c.P / c.W, lambda c: Fraction(c.P)
    ),
    # .grad adds up the micro-steps, so every micro-batch uses the W of
    # the whole step.
    "accumulation, right: s * P / W": Recipe(
        MICRO_STEPS, lambda s, c: s * c.P / c.W, lambda c: Fraction(1)
    ),
    # The mean of P * K micro-batch means: each micro-batch counts the
    # same.
    "accumulation, mean of means: s / W_r / K": Recipe(
        MICRO_STEPS,
        lambda s, c: s / c.W_r / c.K,
        lambda c: Fraction(c.W, c.P * c.K * c.W_r),
    ),
}


def all_reduce(value):
    """The sum of a number over all ranks."""
    # float64 holds whole numbers exactly up to 2**53: counts too.
    t = torch.tensor(float(value), dtype=torch.float64)
    dist.all_reduce(t)  # the default operation is a sum
    return t.item()


def flat_grad(model):
    return torch.cat([p.grad.reshape(-1) for p in model.parameters()])


def ddp_gradient(model, batch, micro_steps, loss):
    """One step of a recipe under DDP: the gradient DDP leaves on this
    rank (the same on every rank).
    """
    world, inputs, targets = dist.get_world_size(), *batch
    mine = plan(world, micro_steps, targets)[dist.get_rank()]
    # Count first: W must be known before the first backward.
    total = int(all_reduce(sum(n for _, n in mine)))
    model.zero_grad(set_to_none=True)
    for k, (rows, n) in enumerate(mine):
        s = masked_sum(model, inputs[rows], targets[rows])
        c = Step(world, micro_steps, total, n)
        if k < micro_steps - 1:
            with model.no_sync():  # add up on this rank, no all-reduce
                loss(s, c).backward()
        else:  # DDP all-reduces and averages during this backward
            loss(s, c).backward()
    return flat_grad(model).clone()


def token_weights(world, micro_steps, weight, targets):
    """Each token's weight in units of 1 / W, as a tensor like targets;
    and the weights of each micro-batch, as fractions.
    """
    layout = plan(world, micro_steps, targets)
    total = sum(n for rank in layout for _, n in rank)
    tensor = torch.zeros(targets.shape, dtype=torch.float64)
    fractions = []
    for rank in layout:
        fractions.append([])
        for rows, n in rank:
            c = weight(Step(world, micro_steps, total, n))
            tensor[rows] = float(c)
            fractions[-1].append(c)
    return tensor, fractions


def one_process_gradient(batch, token_weight=None):
    """In one process, on the whole batch: the gradient of the token mean
    (PyTorch's mean over the targets that are not ignored), or of the sum
    of token_weight * ce / W.
    """
    inputs, targets = batch
    model = make_model()
    logits = model(inputs).reshape(-1, VOCAB)
    if token_weight is None:
        loss = F.cross_entropy(logits, targets.reshape(-1), ignore_index=PAD)
    else:
        ce = F.cross_entropy(
            logits, targets.reshape(-1), ignore_index=PAD, reduction="none"
        )
        loss = (ce * token_weight.reshape(-1)).sum() / n_total(targets)
    loss.backward()
    return flat_grad(model)


def max_diff(a, b):
    return (a - b).abs().max().item()


def check_gradients(model, batch):
    """Every rank runs every recipe (each all-reduce needs all ranks);
    rank 0 compares and prints. True if every check holds.
    """
    world, rank = dist.get_world_size(), dist.get_rank()
    g1 = one_process_gradient(batch)
    ok = True
    for name, (micro_steps, loss, weight) in RECIPES.items():
        g = ddp_gradient(model, batch, micro_steps, loss)
        if rank != 0:
            continue
        tensor, fractions = token_weights(
            world, micro_steps, weight, batch[1]
        )
        predicted = one_process_gradient(batch, tensor)
        print(name)
        print(
            "  token weight x W:",
            " | ".join(" ".join(map(str, r)) for r in fractions),
        )
        agree = max_diff(g, predicted) <= TOL
        print(f"  DDP vs prediction: max |diff| <= {TOL:g}: {agree}")
        if all(c == 1 for r in fractions for c in r):
            same = max_diff(g, g1) <= TOL
            print(f"  DDP vs one process: max |diff| <= {TOL:g}: {same}")
            ok = ok and agree and same
        else:
            off = max_diff(g, g1) / g1.abs().max().item()
            expected = max_diff(predicted, g1) / g1.abs().max().item()
            print(f"  off by {off:.1%} (predicted {expected:.1%})")
            ok = ok and agree and f"{off:.1%}" == f"{expected:.1%}"
    return ok


def check_logged_loss(model, batch):
    """The loss to log: the all-reduced sum over the all-reduced count,
    not the mean over the ranks of each rank's mean.
    """
    world, rank = dist.get_world_size(), dist.get_rank()
    inputs, targets = batch
    ((rows, n),) = plan(world, 1, targets)[rank]
    with torch.no_grad():
        s = masked_sum(model.module, inputs[rows], targets[rows]).item()
    by_tokens = all_reduce(s) / all_reduce(n)
    by_ranks = all_reduce(s / n) / world
    if rank != 0:
        return True
    # In one process: the token mean, and the mean of the ranks' means,
    # which weighs the tokens as the per-worker mean does.
    model = make_model()
    with torch.no_grad():
        ce = F.cross_entropy(
            model(inputs).reshape(-1, VOCAB),
            targets.reshape(-1),
            ignore_index=PAD,
            reduction="none",
        )
    weight = RECIPES["per-worker mean: s / W_r"].weight
    tensor, _ = token_weights(world, 1, weight, targets)
    one = ce.sum().item() / n_total(targets)
    predicted = (ce * tensor.reshape(-1)).sum().item() / n_total(targets)
    same = abs(by_tokens - one) <= TOL
    agree = abs(by_ranks - predicted) <= TOL
    print("logged loss")
    print(f"  one process, token mean: {one:.4f}")
    print(f"  sum over ranks / W:      {by_tokens:.4f}")
    print(f"    vs one process: |diff| <= {TOL:g}: {same}")
    print(f"  mean of ranks' means:    {by_ranks:.4f}")
    print(f"    vs prediction: |diff| <= {TOL:g}: {agree}")
    print(
        f"    off by {(by_ranks - one) / one:+.2%}"
        f" (predicted {(predicted - one) / one:+.2%})"
    )
    return same and agree


def run(rank, world, port):
    torch.set_num_threads(1)  # small tensors; one thread per process
    dist.init_process_group(
        "gloo",
        init_method=f"tcp://127.0.0.1:{port}",
        rank=rank,
        world_size=world,
        timeout=datetime.timedelta(seconds=TIMEOUT),
    )
    try:
        batch = make_batch()
        model = DDP(make_model())
        if rank == 0:
            layout = plan(world, MICRO_STEPS, batch[1])
            counts = " | ".join(
                " ".join(str(n) for _, n in r) for r in layout
            )
            print(f"{world} processes (gloo), float64")
            print(f"real tokens by rank and micro-step: {counts}")
            print(f"W = {sum(LENGTHS)}, P = {world}, K = {MICRO_STEPS}")
            print()
        ok = check_gradients(model, batch)
        ok = check_logged_loss(model, batch) and ok
    finally:
        dist.destroy_process_group()
    if not ok:
        sys.exit(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    world = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    processes = mp.spawn(
        run, args=(world, free_port()), nprocs=world, join=False
    )
    deadline = time.monotonic() + 2 * TIMEOUT
    try:
        while not processes.join(timeout=1):
            if time.monotonic() > deadline:
                sys.exit(f"no result after {2 * TIMEOUT} s")
    except (mp.ProcessRaisedException, mp.ProcessExitedException) as e:
        sys.exit(str(e))  # a rank failed: the others were stopped
    finally:
        for p in processes.processes:  # none is left behind
            if p.is_alive():
                p.kill()


if __name__ == "__main__":
    main()
