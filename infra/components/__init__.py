"""Building blocks of the Slotwise stack, one resource family per module.

Not named `constructs`: `python infra/app.py` puts infra/ on sys.path, where that name would shadow the library.
"""
