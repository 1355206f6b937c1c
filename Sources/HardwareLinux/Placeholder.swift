// HardwareLinux: being written.
