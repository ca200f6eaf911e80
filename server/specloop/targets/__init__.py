"""Kinds of targets beyond a single function: class and module specs, planned and implemented component by component."""
