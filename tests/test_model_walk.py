"""The model's own walk over LibCST trees (fastlint.python.model.children)."""

from __future__ import annotations

import dataclasses

import libcst as cst

from fastlint.python import model


def test_leaf_types_hold_no_syntactic_node() -> None:
    """children() answers [] for these types without reading their fields: each field must be
    trivia (parentheses) or the token's text."""
    for leaf in model._LEAVES:
        fields = {field.name: field for field in dataclasses.fields(leaf)}
        syntactic = set(fields) - model._TRIVIA_FIELDS
        assert syntactic <= {"value"}, leaf
        if "value" in fields:
            assert fields["value"].type in ("str", str), leaf


def test_children_of_a_leaf_and_of_a_call() -> None:
    call = cst.parse_expression("f(x, 'y', 1, 2.0, 3j, ...)")
    assert isinstance(call, cst.Call)
    assert [type(child) for child in model.children(call)] == [cst.Name] + [cst.Arg] * 6
    values = [arg.value for arg in call.args]
    assert [type(value) for value in values] == [
        cst.Name,
        cst.SimpleString,
        cst.Integer,
        cst.Float,
        cst.Imaginary,
        cst.Ellipsis,
    ]
    assert all(model.children(value) == [] for value in values)
