"""The PyTorch peer of the GPU check's benchmarks: the same architecture
(torchvision, random weights: timing only) on the GPU, eager or
torch.compile, inference or one training step (AdamW for ViT-B/16, SGD with
momentum for ResNet-50, bf16 autocast), at one batch size. Prints one JSON
line: {"ms": per iteration, "peak_mb": peak GPU memory}.
  python3 torch_peer.py vit_b_16 infer|train BATCH fp32|bf16 eager|compile ITERS"""
import json
import sys
import time

import torch
import torchvision


def main():
    name, mode, batch, dtype, how, iters = sys.argv[1:7]
    batch, iters = int(batch), int(iters)
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)(weights=None).cuda()
    x = torch.randn(batch, 3, 224, 224, device="cuda")
    y = torch.randint(0, 1000, (batch,), device="cuda")
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=dtype == "bf16")
    if mode == "infer":
        model.eval()

        def step():
            with torch.no_grad(), autocast:
                return model(x)
    else:
        model.train()
        opt = (torch.optim.AdamW(model.parameters(), lr=1e-4) if name.startswith("vit")
               else torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9))

        def step():
            with autocast:
                loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
            return loss
    fn = torch.compile(step) if how == "compile" else step
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    start = time.time()
    for _ in range(iters):
        fn()
    torch.cuda.synchronize()
    ms = (time.time() - start) * 1000 / iters
    print(json.dumps({"ms": ms, "peak_mb": torch.cuda.max_memory_allocated() / 2**20}))


if __name__ == "__main__":
    main()
