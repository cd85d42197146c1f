"""The MNIST models of notebook 03: a small convolutional net and a plain multilayer perceptron.

Both take normalised images [batch, 1, 28, 28] and return logits [batch, 10]. Sizes are arguments,
so the same two classes give the teacher, the students, and Hinton et al.'s (2015) 784-1200-1200-10
and 784-800-800-10 nets.
"""
from __future__ import annotations

import torch
from torch import nn


class CNN(nn.Module):
    """conv3x3 -> ReLU -> maxpool, repeated per entry of `channels`, then dropout -> linear(hidden) -> linear(10).

    CNN() is the course's teacher (824,202 parameters); CNN(channels=(16, 32), hidden=32) is a
    student with about 1/15 of that. The flatten size is *measured* with a dummy forward pass at
    `input_size`, never typed by hand: computing it for the wrong input size is a classic bug
    (notebook 03 shows it).
    """

    def __init__(self, channels: tuple[int, ...] = (32, 64), hidden: int = 256, dropout: float = 0.5,
                 input_size: int = 28, num_classes: int = 10):
        super().__init__()
        layers, in_ch = [], 1
        for out_ch in channels:
            layers += [nn.Conv2d(in_ch, out_ch, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
            in_ch = out_ch
        self.features = nn.Sequential(*layers)
        with torch.no_grad():  # measure the flatten size instead of computing it by hand
            flat = self.features(torch.zeros(1, 1, input_size, input_size)).numel()
        self.flatten_size = flat
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(dropout), nn.Linear(flat, hidden), nn.ReLU(),
                                        nn.Dropout(dropout), nn.Linear(hidden, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


class MLP(nn.Module):
    """A fully connected net: `sizes` = (784, h1, ..., 10), ReLU between layers.

    `dropout` drops hidden units and `input_dropout` input pixels, as in Hinton et al.'s teacher
    (50 % and 20 %). Images [batch, 1, 28, 28] are flattened first.
    """

    def __init__(self, sizes: tuple[int, ...] = (784, 800, 800, 10), dropout: float = 0.0,
                 input_dropout: float = 0.0):
        super().__init__()
        if len(sizes) < 2:
            raise ValueError(f"sizes needs at least (inputs, outputs), got {sizes!r}, e.g. (784, 800, 800, 10).")
        layers: list[nn.Module] = [nn.Flatten(), nn.Dropout(input_dropout)]
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(a, b))
            if i < len(sizes) - 2:  # no ReLU/dropout after the output layer
                layers += [nn.ReLU(), nn.Dropout(dropout)]
        self.net = nn.Sequential(*layers)
        self.sizes = tuple(sizes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
