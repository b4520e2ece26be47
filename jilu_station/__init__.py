"""The workstation agent: takes footage off docked recorders and uploads it to Jilu.

It does not import Django; it talks HTTP to the server.
"""

__version__ = "0.1.0"
