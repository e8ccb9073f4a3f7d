"""Deployment strategies as step machines, and the policies that drive them."""
