"""CNN robustness from a pixel-similarity regularizer, under black-box attacks.

Attias, Pehlevan, Obeid, arXiv 2410.03952.  Needs the ``torch`` extra for its
simulations (``pip install 'theorylab[torch]'`` and ``pip install --no-deps
torchattacks==3.5.1``); the study itself imports without torch.
"""

from .study import STUDY

__all__ = ["STUDY"]
