"""Lean model rows for list pages: the same instances, built without ``Model.__init__``.

A list page fetches 50 recordings with their officer, recorder and probe in
one query. Most of the time Django then spends is not SQL but building the
200 instances: ``Model.from_db`` pads every deferred field with a marker and
``Model.__init__`` walks every field of the model (a person has twenty) and
sends two signals. For plain models nobody listens to, an instance is nothing
more than its ``__dict__`` of column values plus a ``ModelState``, so this
iterable fills exactly that, and caches the select_related objects the way
Django's ``RelatedPopulator`` does. Anything it does not handle (annotations,
extra columns, related-manager querysets, inherited models, models with init
signal receivers or custom field descriptors) goes through Django's own path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cache
from inspect import getattr_static
from typing import Any

from django.db import models
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query import ModelIterable, RelatedPopulator
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init

# Class attributes through which setting a field is a plain ``__dict__`` write
# on a fresh instance (what ``Model.__init__`` would end up doing).
_PLAIN_DESCRIPTORS = (DeferredAttribute, ForeignKeyDeferredAttribute)

Builder = Callable[[tuple[Any, ...]], models.Model]
Populator = Callable[[tuple[Any, ...], models.Model], None]


@cache
def _plain_fields(model: type[models.Model], attnames: tuple[str, ...]) -> bool:
    if model._meta.parents or model._meta.abstract:
        return False
    return all(type(getattr_static(model, name, None)) in _PLAIN_DESCRIPTORS for name in attnames)


def _plain(model: type[models.Model], attnames: tuple[str, ...]) -> bool:
    """Whether instances of ``model`` with these fields can skip ``__init__``
    (signals are asked each time: a receiver may be connected at any moment)."""
    if pre_init.has_listeners(model) or post_init.has_listeners(model):
        return False
    return _plain_fields(model, attnames)


def _builder(model: type[models.Model], attnames: list[str], db: str) -> Builder:
    """Make an instance from the row values of ``attnames``, as ``from_db`` would."""
    names = tuple(attnames)
    if not _plain(model, names):
        return lambda values: model.from_db(db, names, values)
    new = model.__new__

    def build(values: tuple[Any, ...]) -> models.Model:
        obj = new(model)
        state = ModelState()
        state.adding = False
        state.db = db
        obj.__dict__.update(zip(names, values, strict=True))
        obj._state = state
        return obj

    return build


def _related(klass_info: dict[str, Any], select: list[Any], db: str) -> list[Populator]:
    populators: list[Populator] = []
    for info in klass_info.get("related_klass_infos", []):
        if info["from_parent"]:
            # Columns shared with a parent model: Django reorders them; let it.
            populators.append(RelatedPopulator(info, select, db).populate)
            continue
        populators.append(_populator(info, select, db))
    return populators


def _populator(info: dict[str, Any], select: list[Any], db: str) -> Populator:
    """Fill one select_related object into its parent (as ``RelatedPopulator``)."""
    fields = info["select_fields"]
    start, end = fields[0], fields[-1] + 1
    attnames = [col[0].target.attname for col in select[start:end]]
    model = info["model"]
    pk_idx = attnames.index(model._meta.pk_fields[0].attname)
    build = _builder(model, attnames, db)
    children = _related(info, select, db)
    local_setter, remote_setter = info["local_setter"], info["remote_setter"]

    def populate(row: tuple[Any, ...], from_obj: models.Model) -> None:
        values = row[start:end]
        if values[pk_idx] is None:  # LEFT JOIN found nothing (no officer, not probed)
            local_setter(from_obj, None)
            return
        obj = build(values)
        for child in children:
            child(row, obj)
        local_setter(from_obj, obj)
        remote_setter(obj, from_obj)

    return populate


class LeanModelIterable(ModelIterable):
    """``ModelIterable`` with instances built by ``_builder`` (see module docstring)."""

    def __iter__(self) -> Iterator[models.Model]:
        queryset = self.queryset
        query = queryset.query
        if queryset._known_related_objects or query.annotation_select or query.extra_select:
            yield from super().__iter__()
            return
        db = queryset.db
        compiler = query.get_compiler(using=db)
        results = compiler.execute_sql(chunked_fetch=self.chunked_fetch, chunk_size=self.chunk_size)
        select, klass_info = compiler.select, compiler.klass_info
        fields = klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        build = _builder(klass_info["model"], [c[0].target.attname for c in select[start:end]], db)
        related = _related(klass_info, select, db)
        for row in compiler.results_iter(results):
            obj = build(row[start:end])
            for populate in related:
                populate(row, obj)
            yield obj


def lean(queryset: models.QuerySet) -> models.QuerySet:
    """``queryset`` yielding lean instances (kept through filter, order_by and slicing;
    ``values()``/``values_list()`` still switch to their own iterables)."""
    clone = queryset._chain()
    clone._iterable_class = LeanModelIterable
    return clone
