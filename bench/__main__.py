"""Entry point of ``python -m bench``: runs the benchmark (see :mod:`bench.run`).

``python -m bench entities ...`` runs the entity-facet evaluation on Reuters
instead (see :mod:`bench.entities`); ``python -m bench clusters ...`` measures
the near-duplicate clusters (see :mod:`bench.clusters`); ``python -m bench
startup ...`` times the small runs (see :mod:`bench.startup`); ``python -m
bench scaling ...`` gives ingest at 1 and 2 processes and a JSONL file
against its SGML folder (see :mod:`bench.scaling`).
"""

from __future__ import annotations

import sys

if sys.argv[1:2] == ["entities"]:
    from .entities import main as entities_main

    sys.exit(entities_main(sys.argv[2:]))
if sys.argv[1:2] == ["clusters"]:
    from .clusters import main as clusters_main

    sys.exit(clusters_main(sys.argv[2:]))
if sys.argv[1:2] == ["scaling"]:
    from .scaling import main as scaling_main

    sys.exit(scaling_main(sys.argv[2:]))
if sys.argv[1:2] == ["startup"]:
    from .startup import main as startup_main

    sys.exit(startup_main(sys.argv[2:]))

from .run import main

sys.exit(main())
