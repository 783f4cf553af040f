"""Developer tooling that runs devicekeys on one machine: the template reader and the local API."""
