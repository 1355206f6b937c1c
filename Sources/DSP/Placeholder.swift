// DSP: being written.
