"""Selection (widgets/paged_table/selection.py): what the user's select keys do to
the set of selected ids, whatever table it belongs to (contact or membership ids).

Select-all and invert read the matching ids in a worker; if the user changes the
selection meanwhile, the operation applies to the selection as it is then, so no
click made during the wait is lost."""

from __future__ import annotations

from session_tui.ui.widgets.paged_table.selection import Selection, SelectOp


def test_toggle_add_discard_clear() -> None:
    selection = Selection()
    selection.toggle(3)
    selection.toggle(4)
    selection.toggle(3)  # again: unselected
    assert set(selection.ids) == {4} and 4 in selection and len(selection) == 1
    selection.toggle(4, select=True)  # extend: stays selected
    assert set(selection.ids) == {4}
    selection.add([5, 6])
    selection.discard([4, 99])
    assert selection.frozen() == frozenset({5, 6})
    selection.hidden = 2
    selection.discard([5, 6])  # nothing selected: nothing hidden either
    assert not selection and selection.hidden == 0
    selection.add([1])
    selection.clear()
    assert not selection and selection.hidden == 0


def test_select_all_and_invert_apply_to_the_snapshot() -> None:
    selection = Selection()
    selection.add([1, 2, 50])  # 50: selected, hidden by the query
    selection.hidden = 1
    pending = selection.begin(SelectOp.SELECT_ALL)
    assert selection.pending
    matching = [1, 2, 3, 4]
    result = selection.compute(pending, matching)
    selection.finish(pending, matching, result)
    assert not selection.pending
    assert set(selection.ids) == {1, 2, 3, 4, 50} and selection.hidden == 1

    pending = selection.begin(SelectOp.INVERT)
    matching = [1, 2, 3, 4, 5]
    selection.finish(pending, matching, selection.compute(pending, matching))
    assert set(selection.ids) == {5, 50}  # the hidden one is untouched


def test_a_change_during_select_all_is_kept() -> None:
    selection = Selection()
    selection.add([1])
    pending = selection.begin(SelectOp.INVERT)
    matching = [1, 2, 3]
    result = selection.compute(pending, matching)  # {2, 3}, from the snapshot {1}
    selection.toggle(7)  # the user selects another row (e.g. a membership) meanwhile
    selection.finish(pending, matching, result)
    assert set(selection.ids) == {2, 3, 7}


def test_a_failed_select_all_leaves_the_selection() -> None:
    selection = Selection()
    selection.add([1, 2])
    selection.begin(SelectOp.SELECT_ALL)
    selection.fail()
    assert not selection.pending and set(selection.ids) == {1, 2}
