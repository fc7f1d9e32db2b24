"""Each command as a library call: a validated request in, its document out.
The command line and the Python API both call these; neither does more
than build the request and show what comes back."""
