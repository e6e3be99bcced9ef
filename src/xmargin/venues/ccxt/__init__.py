"""The live venue adapter over unmodified ccxt (``async_support`` and ``ccxt.pro``)."""
