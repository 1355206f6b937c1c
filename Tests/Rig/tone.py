"""Measures what the earpiece heard, in plain Python (the guest runs it under
an emulated CPU, so it asks only for the few frequencies it needs):
frequency and level of each expected component, and where sound starts."""

import math

from alsa import ZERO_DBM0_PEAK


def _goertzel_amplitude(windowed, window_sum, frequency, rate):
    """Peak amplitude of the sine at `frequency` in Hann-windowed samples."""
    coefficient = 2.0 * math.cos(2.0 * math.pi * frequency / rate)
    s1 = s2 = 0.0
    for x in windowed:
        s1, s2 = x + coefficient * s1 - s2, s1
    power = s1 * s1 + s2 * s2 - coefficient * s1 * s2
    return 2.0 * math.sqrt(max(power, 0.0)) / window_sum


def dbm0(amplitude):
    return 20.0 * math.log10(max(amplitude, 1e-9) / ZERO_DBM0_PEAK)


def component(samples, nominal, rate=8000, span=0.015, steps=6):
    """(frequency, level in dBm0) of the strongest sine within `span`
    (relative) of `nominal`: a grid of Goertzel filters, then a parabola
    through the top three on a log scale."""
    count = len(samples)
    window = [0.5 - 0.5 * math.cos(2.0 * math.pi * n / (count - 1)) for n in range(count)]
    windowed = [w * x for w, x in zip(window, samples)]
    window_sum = sum(window)
    step = nominal * span / steps
    grid = [nominal + k * step for k in range(-steps, steps + 1)]
    levels = [_goertzel_amplitude(windowed, window_sum, f, rate) for f in grid]
    best = max(range(len(grid)), key=lambda i: levels[i])
    frequency = grid[best]
    if 0 < best < len(grid) - 1:
        a, b, c = (math.log(max(levels[i], 1e-9)) for i in (best - 1, best, best + 1))
        denominator = a - 2 * b + c
        if denominator < 0:
            frequency += step * 0.5 * (a - c) / denominator
    return frequency, dbm0(_goertzel_amplitude(windowed, window_sum, frequency, rate))


def first_loud(samples, start, threshold):
    """Index of the first sample at or after `start` louder than
    `threshold` (None: none)."""
    for index in range(max(0, start), len(samples)):
        if abs(samples[index]) > threshold:
            return index
    return None


def peak(samples):
    return max((abs(x) for x in samples), default=0)
