"""A layout with every copy one explicit array: the product-space formulation with nothing
compressed, the reference the library's layouts are checked against."""

from keras_feasible.graph.layouts import AllCopies


class ExplicitCopies(AllCopies):
    def hold(self, node, key, view, grid, constants):
        return node.ports[key].copies(view, grid)


def explicit(problem):
    """`problem`, holding every copy explicitly from now on."""
    problem.layout = ExplicitCopies()
    return problem
