import os

# jsii prints a multi-line end-of-life banner for Node 20 on every synth; the version is known and accepted here.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
