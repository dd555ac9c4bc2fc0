"""Runtime code of the Wild Rydes Lambda functions: a pure core and thin AWS adapters."""
