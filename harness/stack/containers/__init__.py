"""The containers provider: the local provider's services, each in a container."""
