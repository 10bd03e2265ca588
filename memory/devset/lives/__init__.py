"""Hand-written lives for family C of the development set: twelve people, two to a
conversation (see ``memory/devset/generate_c.py`` for the script format)."""

from memory.devset.lives.hannah_oskar import HANNAH, OSKAR
from memory.devset.lives.lena_gabriel import GABRIEL, LENA
from memory.devset.lives.maren_theo import MAREN, THEO
from memory.devset.lives.priya_callum import CALLUM, PRIYA
from memory.devset.lives.rosa_jamal import JAMAL, ROSA
from memory.devset.lives.yuki_frank import FRANK, YUKI

PAIRS = [
    (("Maren", MAREN), ("Theo", THEO)),
    (("Priya", PRIYA), ("Callum", CALLUM)),
    (("Rosa", ROSA), ("Jamal", JAMAL)),
    (("Hannah", HANNAH), ("Oskar", OSKAR)),
    (("Lena", LENA), ("Gabriel", GABRIEL)),
    (("Yuki", YUKI), ("Frank", FRANK)),
]
