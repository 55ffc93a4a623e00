"""CX Copilot shared library: everything the Cloud Functions entry points delegate to."""
