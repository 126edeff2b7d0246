"""Delivery over MLLP: destination config, framing, client, ACK reading, test receiver.

Modules are imported directly (``destinations.client``, ``destinations.ack``, ...) so that using
the framing or the ACK parser does not pull in pydantic and YAML.
"""
