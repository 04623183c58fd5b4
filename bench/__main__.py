"""Entry point of ``python -m bench``: runs the benchmark (see :mod:`bench.run`).

``python -m bench entities ...`` runs the entity-facet evaluation on Reuters
instead (see :mod:`bench.entities`).
"""

from __future__ import annotations

import sys

if sys.argv[1:2] == ["entities"]:
    from .entities import main as entities_main

    sys.exit(entities_main(sys.argv[2:]))

from .run import main

sys.exit(main())
