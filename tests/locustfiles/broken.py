"""A locustfile that cannot be imported: the master crashes, and the gate must say so."""

raise RuntimeError("this locustfile is broken on purpose")
