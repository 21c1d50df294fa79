"""Reference values for tests/precision/grad_scaler_test.cpp: torch's own GradScaler (torch 1.13)
driven through a sequence of steps, some with an inf gradient, printing per step whether the
optimizer stepped, the scale and the growth tracker after update(), and the final state_dict.

GradScaler is CUDA-only in 1.13: on CPU its constructor disables it, scale() asserts a CUDA
tensor and the two kernels do not dispatch. So this script keeps it enabled, scales the loss as
scale() does (outputs * self._scale), lifts _MultiDeviceReplicator's CUDA assert, and stands in for the two kernels with their CUDA code's
rule (aten/src/ATen/native/cuda/AmpKernels.cu); everything else (stages, found_inf bookkeeping,
skipping the step, update(), state_dict) is torch's GradScaler itself.

usage: grad_scaler_reference.py INIT_SCALE GROWTH_INTERVAL STEPS INF_STEPS(comma-separated)
"""
import json
import math
import sys

import torch


def non_finite_check_and_unscale_(grads, found_inf, inv_scale):
    for g in grads:
        if not torch.isfinite(g).all():
            found_inf.fill_(1.0)
        if inv_scale.item() != 1.0:
            g.mul_(inv_scale)


def update_scale_(scale, growth_tracker, found_inf, growth_factor, backoff_factor, growth_interval):
    # float arithmetic, as the kernel's float* scale and float factors
    s = torch.tensor(scale.item(), dtype=torch.float32)
    if found_inf.item():
        scale.fill_((s * torch.tensor(backoff_factor, dtype=torch.float32)).item())
        growth_tracker.fill_(0)
    else:
        successful = growth_tracker.item() + 1
        if successful == growth_interval:
            grown = (s * torch.tensor(growth_factor, dtype=torch.float32)).item()
            if math.isfinite(grown):
                scale.fill_(grown)
            growth_tracker.fill_(0)
        else:
            growth_tracker.fill_(successful)
    return scale


def replicator_init(self, master_tensor):  # _MultiDeviceReplicator without its CUDA-only assert
    self.master = master_tensor
    self._per_device_tensors = {}


torch.cuda.amp.grad_scaler._MultiDeviceReplicator.__init__ = replicator_init
torch._amp_foreach_non_finite_check_and_unscale_ = non_finite_check_and_unscale_
torch._amp_update_scale_ = update_scale_


def main():
    init_scale, growth_interval, steps = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    inf_steps = {int(s) for s in sys.argv[4].split(",") if s}
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    torch.cuda.amp.grad_scaler.amp_definitely_not_available = lambda: False  # keep it enabled on CPU
    scaler = torch.cuda.amp.GradScaler(init_scale=init_scale, growth_interval=growth_interval)
    scaler._lazy_init_scale_growth_tracker(torch.device("cpu"))  # what scale() does first
    out = []
    for step in range(steps):
        opt.zero_grad()
        loss = model(torch.randn(4, 3)).pow(2).mean()
        (loss * scaler._scale).backward()  # scaler.scale(loss)
        if step in inf_steps:
            model.weight.grad[0, 0] = float("inf")
        before = model.weight.detach().clone()
        scaler.step(opt)
        taken = not torch.equal(before, model.weight.detach())
        scaler.update()
        out.append({"taken": taken, "scale": scaler.get_scale(), "tracker": int(scaler._growth_tracker.item())})
    print(json.dumps({"steps": out, "state_dict": scaler.state_dict()}))


main()
