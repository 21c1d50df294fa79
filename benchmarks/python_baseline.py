"""The tiny-MLP training of training_bench.cpp (784-32-10, batch 16, SGD, 3 epochs of 4096
random examples, one thread) in Python with the same libtorch (Debian's python3-torch 1.13.1),
as a baseline for what the C++ loops save. Prints `bench mlp/python us_per_step=<x> ratio=<y>`,
the ratio against the C++ hand-written loop's us_per_step given as the first argument (from a
separate process, so not paired as the C++ sides are)."""
import statistics
import sys
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
torch.manual_seed(1)
N, BATCH, EPOCHS, REPS = 4096, 16, 3, 15
x = torch.randn(N, 784)
y = torch.randint(10, (N,))


class TinyMLP(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(784, 32)
        self.fc2 = torch.nn.Linear(32, 10)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


def seed_mix(seed, epoch):
    """volt::data::seed_mix: the C++ loops shuffle with this, so the order here is the same."""
    m = (1 << 64) - 1

    def mix(z):
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & m
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & m
        return z ^ (z >> 31)

    return mix(mix((seed + 0x9E3779B97F4A7C15) & m) ^ epoch)


def run():
    torch.manual_seed(7)
    model = TinyMLP()
    start = time.perf_counter()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    model.train()
    for epoch in range(EPOCHS):
        gen = torch.Generator().manual_seed(seed_mix(7, epoch))
        perm = torch.randperm(N, generator=gen)
        xs, ys = x.index_select(0, perm), y.index_select(0, perm)
        for s in range(0, N, BATCH):
            loss = F.cross_entropy(model(xs[s:s + BATCH]), ys[s:s + BATCH])
            optimizer.zero_grad(set_to_none=False)  # as libtorch 1.13's C++ zero_grad
            loss.backward()
            optimizer.step()
    return (time.perf_counter() - start) * 1e6 / (EPOCHS * ((N + BATCH - 1) // BATCH))


run()  # warm-up
us = statistics.median(run() for _ in range(REPS))
hand = float(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1] else float("nan")
print(f"bench mlp/python us_per_step={us:.1f} ratio={us / hand:.3f}")
