"""The local provider: services as processes on 127.0.0.1."""
