"""Titles that make the injected faults (sitecustomize.py beside this file) fire."""

SEGV_ON_SPLIT = "docjobs-fault: segfault while splitting"
