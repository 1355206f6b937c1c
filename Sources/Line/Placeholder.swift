// Line: being written.
