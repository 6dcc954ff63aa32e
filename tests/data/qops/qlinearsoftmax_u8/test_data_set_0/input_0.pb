
BxJЅЂ№"xCёцЇчB&ё§lDфЅTМcb	н ХУ