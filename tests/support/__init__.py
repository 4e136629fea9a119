"""Test-support helpers: a loopback WS-Management endpoint for pywinrm tests."""
