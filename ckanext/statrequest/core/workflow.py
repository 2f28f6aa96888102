"""The request workflow, declared in YAML and enforced here.

`Workflow.from_yaml()` reads and validates a workflow file and reports every problem at once
(`WorkflowError.problems`), so an administrator can fix a custom file in one go. The query
methods (`available`, `check`, `validate_inputs`, `states_waiting_for`) are what the action
layer uses; they only see actor names ("sekretaris", "pemohon", "opd", ...) that the caller has
already computed for the current user on the current request.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

DEFAULT_PATH = Path(__file__).with_name("workflow.yaml")

# Actors that are not positions: they depend on the request, not on a position table.
REQUESTER = "pemohon"
OPD = "opd"
SPECIAL_ACTORS = (REQUESTER, OPD)

REQUIREMENT_KINDS = ("note", "instruction", "assignee", "opd", "files", "outcome", "signature",
                     "channel")
OUTCOMES = ("dipenuhi", "dipenuhi_sebagian", "ditolak")
SLA_FLAGS = ("running", "paused", "stopped")
SLA_EFFECTS = ("pause", "resume", "stop")
LETTER_EFFECTS = ("draft", "paraf", "sign")
VISIBILITIES = ("public", "internal")
# `objection:` on a transition: `file` lets the requester object (keberatan, UU 14/2008 Pasal 35)
# from a completed final state; `decide` is the superior's signed decision. They move the
# objection, never the request, so the answer's own state, clock and figures stay as they were.
OBJECTION_STEPS = ("file", "decide")
DEFAULT_OBJECTION_DAYS = 30  # working days to file, and to decide (Pasal 36)
LANGUAGES = ("id", "en")
# Who reads a state's label: the requester (and a guest, and the public tracking page) reads
# its `label:`, written to them ("menunggu kelengkapan dari Anda"); Diskominfo officials and
# OPD read its `official:` ("menunggu kelengkapan dari pemohon"), or `label:` when it has none.
REQUESTER_AUDIENCE = "requester"
OFFICIAL = "official"
AUDIENCES = (REQUESTER_AUDIENCE, OFFICIAL)

# Reasons carried by TransitionNotAllowed, for callers that react differently (a lost race
# shows up as WRONG_STATE and becomes an "already handled" message).
UNKNOWN_TRANSITION = "unknown_transition"
WRONG_STATE = "wrong_state"
WRONG_ACTOR = "wrong_actor"
NOT_ASSIGNEE = "not_assignee"

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_TOP_KEYS = {"initial", "final", "assignee_position", "front_desk_position", "positions",
             "superior", "states", "transitions", "progress", "letters", "privacy_position"}
_LETTERS_KEYS = {"reason_from"}  # `letters:` (optional)
# The reply letter has two paraf boxes (fields Paraf1, Paraf2) and one signature (TTE): the
# actors of the `letter: paraf` transitions fill the boxes in file order.
MAX_PARAF = 2
_PROGRESS_KEYS = {"label", "states"}  # a step of the progress tracker
_STATE_KEYS = {"label", "official", "holder", "sla", "panel"}
# `panel:` on a state: what the request page shows in it. requester_changes: the note of the
# step that asked the requester for changes (a state held by the requester); answer: the
# reply's downloads and the satisfaction survey (a final state).
PANELS = ("requester_changes", "answer")
_TRANSITION_KEYS = {"name", "from", "to", "actor", "assignee_only", "requires", "visibility",
                    "sla", "outcome", "letter", "on_behalf_of", "label", "objection", "days",
                    "extend_days"}
# `to: same`: the transition leaves the request in the state it was fired from (the deadline
# extension, given in any of several states); no state may have this name
SAME_STATE = "same"
# `extend_days` at most: UU 14/2008 Pasal 22 allows 7 working days; more is surely a typo
EXTEND_DAYS_MAX = 30


def N_(message: str) -> str:
    """Mark a message for translation without importing CKAN; the caller translates it."""
    return message


# Field errors from validate_inputs(); English msgids, translated by the action layer.
INPUT_ERRORS: Mapping[str, str] = MappingProxyType({
    "note": N_("Please write a note."),
    "instruction": N_("Please write the instruction (isi disposisi)."),
    "assignee": N_("Please choose a staff member."),
    "opd": N_("Please choose at least one agency (OPD)."),
    "files": N_("Please attach the required files."),
    "files_or_dataset": N_("Please attach the files or link a dataset."),
    "outcome": N_("Please choose an outcome."),
    "signature": N_("Please enter your signing passphrase or PIN."),
    "channel": N_("Please say how the data arrived."),
    "opd_one": N_("Please choose the one agency (OPD) the data came from."),
})


class WorkflowError(Exception):
    """A workflow file is inconsistent; `problems` lists every problem found."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid workflow:\n" + "\n".join(f"- {p}" for p in problems))


class TransitionNotAllowed(Exception):
    """A user may not fire a transition now; `reason` is one of the reason constants."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class Label:
    """A text in Indonesian and English."""

    id: str
    en: str

    def get(self, lang: str) -> str:
        # CKAN locales look like "en" or "en_GB"; Indonesian is the fallback.
        return self.en if lang.split("_")[0].lower() == "en" else self.id


@dataclass(frozen=True)
class Requirement:
    kind: str
    file_kinds: tuple[str, ...] = ()
    or_dataset: bool = False  # files only: a linked dataset satisfies it instead of uploads


@dataclass(frozen=True)
class State:
    name: str
    label: Label
    sla: str  # running | paused | stopped
    holder: str | None  # actor whose inbox holds the request; None for final states
    final: bool
    official: Label | None = None  # what officials and OPD read; None: the same as `label`
    panel: str | None = None  # PANELS: what the request page shows in this state

    def label_for(self, audience: str, lang: str) -> str:
        """The state's text for a reader (an AUDIENCES value) in a language."""
        if audience not in AUDIENCES:
            raise ValueError(f"unknown audience {audience!r}")
        label = self.official if audience == OFFICIAL and self.official else self.label
        return label.get(lang)


@dataclass(frozen=True)
class ProgressStep:
    """A step of the progress tracker on the request page: the states a requester sees as one
    step (`progress:` in the file). No states: the submission itself (the first step only)."""

    label: Label
    states: tuple[str, ...]


@dataclass(frozen=True)
class Transition:
    name: str
    sources: tuple[str, ...]
    target: str
    actor: str
    label: Label
    visibility: str
    requires: tuple[Requirement, ...] = ()
    assignee_only: bool = False
    sla: str | None = None  # pause | resume | stop
    outcome: str | None = None  # fixed outcome, e.g. "ditolak"
    letter: str | None = None  # draft | paraf | sign
    # "a.n.": the actor signs the letter on behalf of this position (letter: sign only)
    on_behalf_of: str | None = None
    objection: str | None = None  # file | decide (OBJECTION_STEPS)
    days: int = DEFAULT_OBJECTION_DAYS  # objection only: the filing period / decision deadline
    stays: bool = False  # `to: same`: the request stays in the state it was fired from
    # working days the deadline moves (once per request; with `to: same` only)
    extend_days: int | None = None

    def target_of(self, state: str) -> str:
        """The state a request is in after this transition, fired from `state`."""
        return state if self.stays else self.target

    def requirement(self, kind: str) -> Requirement | None:
        return next((r for r in self.requires if r.kind == kind), None)

    def needs(self, kind: str) -> bool:
        return self.requirement(kind) is not None

    @property
    def asks_confirmation(self) -> bool:
        """Ends the request in one click, without a signature (the withdrawal): pages ask
        first, with CKAN's confirm-action dialog or, without JavaScript, a page of their own."""
        return self.sla == "stop" and not self.needs("signature")

    @property
    def is_public(self) -> bool:
        return self.visibility == "public"

    @property
    def on_behalf_of_opd(self) -> bool:
        """Records data an OPD sent outside the portal: `opd` then names the one routed OPD
        the data came from (instead of routing to new ones), `channel` how it arrived."""
        return self.needs("channel")


@dataclass(frozen=True)
class Workflow:
    initial: str
    final: frozenset[str]
    states: Mapping[str, State]
    transitions: Mapping[str, Transition]  # in file order, which is button order
    positions: Mapping[str, Label]
    superior: Mapping[str, str]
    assignee_position: str | None  # None: no step names an assignee
    # who registers requests and complaints received by letter, email or in person; None:
    # this regency has no front desk in the service (portal submissions only)
    front_desk_position: str | None
    _outgoing: Mapping[str, tuple[Transition, ...]] = field(repr=False, compare=False)
    # the progress tracker's steps (`progress:`); empty: one step per state of the main path
    progress: tuple[ProgressStep, ...] = field(default=(), compare=False)
    # `letters: reason_from`: transitions whose (last) note is the reason printed on the reply
    letter_reason_from: tuple[str, ...] = ()
    # who answers for personal data (sees who opened identity documents); None: sysadmins only
    privacy_position: str | None = None

    # --- loading ------------------------------------------------------------------------

    @classmethod
    def from_yaml(cls, source: str | Path) -> Workflow:
        """Load from a file path, or from YAML text (a str containing a newline)."""
        if isinstance(source, str) and "\n" in source:
            text = source
        else:
            try:
                text = Path(source).read_text(encoding="utf-8")
            except OSError as exc:
                raise WorkflowError([f"cannot read {source}: {exc.strerror or exc}"]) from exc
        loader = _StrictLoader(text)
        try:
            data = loader.get_single_data()
        except yaml.YAMLError as exc:
            raise WorkflowError([f"YAML syntax error: {exc}"]) from exc
        finally:
            loader.dispose()
        return _build(data, loader.problems)

    @classmethod
    def from_dict(cls, data: Any) -> Workflow:
        return _build(data, [])

    # --- queries ------------------------------------------------------------------------

    @property
    def actors(self) -> frozenset[str]:
        return frozenset(self.positions) | frozenset(SPECIAL_ACTORS)

    def state(self, name: str) -> State:
        return self.states[name]

    def transition(self, name: str) -> Transition:
        return self.transitions[name]

    def is_final(self, state: str) -> bool:
        return state in self.final

    def state_label(self, name: str, audience: str, lang: str) -> str:
        """A state's text for a reader; the bare name of a state no longer in the file."""
        state = self.states.get(name)
        return state.label_for(audience, lang) if state else name

    def outgoing(self, state: str) -> list[Transition]:
        return list(self._outgoing.get(state, ()))

    def available(
        self, state: str, roles: Iterable[str], is_assignee: bool = False
    ) -> list[Transition]:
        """Transitions the caller may fire now; an unknown state offers none."""
        roles = set(roles)
        return [
            t for t in self._outgoing.get(state, ())
            if t.actor in roles and (is_assignee or not t.assignee_only)
        ]

    def check(
        self, state: str, name: str, roles: Iterable[str], is_assignee: bool = False
    ) -> Transition:
        """Return the transition if the caller may fire it from `state`, else raise."""
        t = self.transitions.get(name)
        if t is None:
            raise TransitionNotAllowed(UNKNOWN_TRANSITION, f"unknown transition {name!r}")
        if state not in t.sources:
            raise TransitionNotAllowed(
                WRONG_STATE, f"transition {name!r} cannot be used in state {state!r}"
            )
        if t.actor not in set(roles):
            raise TransitionNotAllowed(
                WRONG_ACTOR, f"transition {name!r} is for {t.actor!r} only"
            )
        if t.assignee_only and not is_assignee:
            raise TransitionNotAllowed(
                NOT_ASSIGNEE, f"transition {name!r} is for the assigned staff member only"
            )
        return t

    def validate_inputs(
        self, transition: Transition | str, inputs: Mapping[str, Any]
    ) -> dict[str, str]:
        """Field errors for missing required inputs; empty when all is given.

        Expected inputs: note, instruction, assignee, signature, channel (str); opd (list of ids);
        files (mapping kind -> list of files); dataset (str, for `or_dataset`); outcome.
        """
        t = self.transitions[transition] if isinstance(transition, str) else transition
        errors: dict[str, str] = {}
        for req in t.requires:
            value = inputs.get(req.kind)
            if req.kind in ("note", "instruction", "assignee", "signature", "channel"):
                ok = _filled(value)
            elif req.kind == "opd":
                ok = _filled_list(value)
                if ok and t.on_behalf_of_opd and len([v for v in value if v]) != 1:
                    errors["opd"] = INPUT_ERRORS["opd_one"]
                    continue
            elif req.kind == "outcome":
                ok = value in OUTCOMES
            else:  # files
                files = value if isinstance(value, Mapping) else {}
                ok = all(_filled_list(files.get(kind)) for kind in req.file_kinds)
                if not ok and req.or_dataset:
                    ok = _filled(inputs.get("dataset"))
                if not ok:
                    errors["files"] = INPUT_ERRORS[
                        "files_or_dataset" if req.or_dataset else "files"
                    ]
                continue
            if not ok:
                errors[req.kind] = INPUT_ERRORS[req.kind]
        return errors

    def states_waiting_for(self, roles: Iterable[str]) -> list[str]:
        """States whose holder is one of `roles`: what belongs in that user's inbox."""
        roles = set(roles)
        return [s.name for s in self.states.values() if s.holder in roles]

    def sla_effect(self, transition: Transition | str) -> str | None:
        """pause | resume | stop | None; validated to agree with the states' sla flags."""
        t = self.transitions[transition] if isinstance(transition, str) else transition
        return t.sla

    def sla_running(self, state: str) -> bool:
        return self.states[state].sla == "running"

    def objection_step(self, step: str) -> Transition | None:
        """The transition of an objection step (`file` or `decide`); None: this workflow
        has no objections (a regency left them out)."""
        return next((t for t in self.transitions.values() if t.objection == step), None)

    # --- the reply letter: who initials and who signs, all from the transitions ---------------

    def signing_transition(self) -> Transition | None:
        """The transition that puts the final signature on the reply (`letter: sign`)."""
        return next((t for t in self.transitions.values() if t.letter == "sign"), None)

    def letter_signer(self) -> str | None:
        """The position that signs the reply (the `letter: sign` transition's actor)."""
        t = self.signing_transition()
        return t.actor if t else None

    def letter_on_behalf_of(self) -> str | None:
        """The position the signer signs "a.n." (atas nama) for; None: in their own name."""
        t = self.signing_transition()
        return t.on_behalf_of if t else None

    def paraf_positions(self) -> tuple[str, ...]:
        """Positions that initial the reply, in order (paraf box 1, 2)."""
        return tuple(dict.fromkeys(t.actor for t in self.transitions.values()
                                   if t.letter == "paraf"))

    def states_with_panel(self, panel: str) -> tuple[str, ...]:
        return tuple(s.name for s in self.states.values() if s.panel == panel)

    def steps_into(self, state: str) -> tuple[str, ...]:
        """Transitions that lead into `state` (e.g. the request for changes)."""
        return tuple(t.name for t in self.transitions.values()
                     if t.target == state and not t.stays)

    def goes_back(self, transition: Transition) -> bool:
        """A return or a refusal: the step leads back along the main path, or fixes a refusal
        (pages show its button as a warning)."""
        if transition.outcome == "ditolak":
            return True
        if transition.stays or transition.sla == "pause":  # asking the requester is no return
            return False
        # steps still to go to the answer (the main path's end), from each state, not
        # counting a short cut by a refusal
        end = self.main_path()[-1]
        togo = {end: 0}
        queue = deque([end])
        while queue:
            here = queue.popleft()
            for t in self.transitions.values():
                for src in t.sources:
                    if not t.stays and t.outcome is None and t.target == here \
                            and src not in togo:
                        togo[src] = togo[here] + 1
                        queue.append(src)
        far = togo.get(transition.target)
        return far is not None and any(src in togo and far > togo[src]
                                       for src in transition.sources)

    def superior_of(self, position: str) -> str | None:
        return self.superior.get(position)

    def escalation_chain(self, position: str) -> list[str]:
        """Superiors of `position`, nearest first (cycles are rejected at load time)."""
        chain: list[str] = []
        nxt = self.superior.get(position)
        while nxt is not None:
            chain.append(nxt)
            nxt = self.superior.get(nxt)
        return chain

    # --- the progress tracker of the request page -----------------------------------------

    def main_path(self) -> list[str]:
        """The states a request passes from `initial` to its answer (see `_main_path`)."""
        return _main_path(self.initial, self._outgoing, self.final)

    def progress_steps(self) -> tuple[ProgressStep, ...]:
        """The tracker's steps: the file's `progress:`, else one step per main-path state."""
        if self.progress:
            return self.progress
        return tuple(ProgressStep(self.states[s].label, (s,)) for s in self.main_path())

    def progress_index(self, state: str) -> int | None:
        """The step (index into `progress_steps()`) a request in `state` is at. A state in no
        step (a detour, e.g. waiting for the requester's changes) is at the earliest step of a
        state it is reached from. None: a final state off the path (withdrawn), or unknown."""
        steps = self.progress_steps()
        listed = {name: i for i, step in enumerate(steps) for name in step.states}
        if state in listed:
            return listed[state]
        if state not in self.states or self.is_final(state):
            return None
        reached_from = [listed[src] for t in self.transitions.values()
                        if t.target == state and not t.stays
                        for src in t.sources if src in listed]
        return min(reached_from) if reached_from else None


@lru_cache(maxsize=1)
def load_default() -> Workflow:
    """The workflow shipped with the extension (cached: it is immutable)."""
    return Workflow.from_yaml(DEFAULT_PATH)


def check_file(path: str | Path) -> list[str]:
    """Problems in a workflow file, for `ckan statrequest workflow-check`; [] means valid."""
    try:
        Workflow.from_yaml(Path(path))
    except WorkflowError as exc:
        return exc.problems
    return []


# --- helpers --------------------------------------------------------------------------------


def _known(value: Any, names: Mapping[str, Any] | set[str]) -> bool:
    # YAML can hand us lists or mappings where a name belongs; those are unhashable.
    return isinstance(value, str) and value in names


def _filled(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _filled_list(value: Any) -> bool:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        return False
    return any(v not in (None, "") for v in value)


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that records duplicate mapping keys, which PyYAML silently merges."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.problems: list[str] = []


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[str] = set()
    for key_node, _ in node.value:
        if isinstance(key_node, yaml.ScalarNode):
            if key_node.value in seen:
                loader.problems.append(
                    f"duplicate key {key_node.value!r} at line {key_node.start_mark.line + 1}"
                )
            seen.add(key_node.value)
    return loader.construct_mapping(node, deep=True)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,  # type: ignore[arg-type]
)


def _build(data: Any, problems: list[str]) -> Workflow:
    """Turn parsed YAML into a Workflow, collecting every problem before raising."""
    problems = list(problems)
    if not isinstance(data, dict):
        raise WorkflowError([*problems, "the workflow must be a YAML mapping"])
    for key in sorted(set(data) - _TOP_KEYS, key=str):
        problems.append(f"unknown top-level key {key!r}")

    positions = _parse_positions(data.get("positions"), problems)
    actors = set(positions) | set(SPECIAL_ACTORS)

    # optional in a workflow where no step names an assignee
    assignee_position = data.get("assignee_position")
    needs_assignee = any(isinstance(t, dict) and (t.get("assignee_only") or "assignee" in (
        t.get("requires") if isinstance(t.get("requires"), list) else []))
        for t in (data.get("transitions") if isinstance(data.get("transitions"), list) else []))
    if (assignee_position is not None or needs_assignee) \
            and not _known(assignee_position, positions):
        problems.append(f"assignee_position: unknown position {assignee_position!r}")
    front_desk_position = data.get("front_desk_position")
    if front_desk_position is not None and not _known(front_desk_position, positions):
        problems.append(f"front_desk_position: unknown position {front_desk_position!r}")
    privacy_position = data.get("privacy_position")
    if privacy_position is not None and not _known(privacy_position, positions):
        problems.append(f"privacy_position: unknown position {privacy_position!r}")

    final = data.get("final")
    if isinstance(final, str):
        final = [final]
    if not isinstance(final, list) or not final:
        problems.append("final: list at least one final state")
        final = []
    final_set = frozenset(s for s in final if isinstance(s, str))

    states = _parse_states(data.get("states"), final_set, actors, problems,
                           _objection_states(data.get("transitions")))
    for name in sorted(final_set - set(states)):
        problems.append(f"final: unknown state {name!r}")

    initial = data.get("initial")
    if not _known(initial, states):
        problems.append(f"initial: unknown state {initial!r}")
    elif initial in final_set:
        problems.append(f"initial: state {initial!r} cannot also be final")

    transitions = _parse_transitions(
        data.get("transitions"), states, actors,
        assignee_position if _known(assignee_position, positions) else None, problems,
    )
    superior = _parse_superior(data.get("superior"), positions, problems)
    _check_letter_signers(transitions, problems)
    reason_from = _parse_letters(data.get("letters"), transitions, problems)

    outgoing: dict[str, list[Transition]] = {name: [] for name in states}
    for t in transitions.values():
        for src in t.sources:
            if src in outgoing and (t.stays or t.target in states):  # only valid edges
                outgoing[src].append(t)
    # a transition that keeps the state (`to: same`) is no way out of it
    _check_graph(initial, states, {k: [t for t in v if not t.stays] for k, v in outgoing.items()},
                 actors, problems)
    progress = _parse_progress(data.get("progress"), states, problems)
    if progress and not problems:  # on a broken graph the main path means nothing
        _check_progress(progress, _main_path(initial, outgoing, final_set), problems)

    if problems:
        raise WorkflowError(problems)
    return Workflow(
        initial=initial,
        final=final_set,
        states=MappingProxyType(states),
        transitions=MappingProxyType(transitions),
        positions=MappingProxyType(positions),
        superior=MappingProxyType(superior),
        assignee_position=assignee_position,
        front_desk_position=front_desk_position,
        _outgoing=MappingProxyType({k: tuple(v) for k, v in outgoing.items()}),
        progress=progress,
        letter_reason_from=reason_from,
        privacy_position=privacy_position,
    )


def _check_letter_signers(transitions: Mapping[str, Transition], problems: list[str]) -> None:
    """The reply has MAX_PARAF paraf boxes and one signature: at most that many positions
    initial it (`letter: paraf`), and one position signs it (`letter: sign`)."""
    paraf = list(dict.fromkeys(t.actor for t in transitions.values() if t.letter == "paraf"))
    signers = sorted({t.actor for t in transitions.values() if t.letter == "sign"})
    if len(paraf) > MAX_PARAF:
        problems.append(f"letters: at most {MAX_PARAF} positions initial the reply (paraf), "
                        f"got {', '.join(paraf)}")
    if len(signers) > 1:
        problems.append("letters: one position signs the reply (letter: sign), got "
                        + ", ".join(signers))
    if paraf and not signers:
        problems.append("letters: paraf steps but no transition with letter sign")
    for actor in sorted(set(paraf) | set(signers)):
        if actor in SPECIAL_ACTORS:
            problems.append(f"letters: only a position initials or signs, not {actor!r}")


def _parse_letters(value: Any, transitions: Mapping[str, Transition],
                   problems: list[str]) -> tuple[str, ...]:
    """`letters:` (optional): `reason_from`, the transitions whose last note is printed on
    the reply as its reason (refused or partly fulfilled)."""
    if value is None:
        return ()
    if not isinstance(value, dict):
        problems.append("letters: must be a mapping (reason_from)")
        return ()
    for key in sorted(set(value) - _LETTERS_KEYS, key=str):
        problems.append(f"letters: unknown key {key!r}")
    names = value.get("reason_from", [])
    if not isinstance(names, list):
        problems.append("letters: reason_from must be a list of transitions")
        return ()
    for name in names:
        if not _known(name, transitions):
            problems.append(f"letters: reason_from: unknown transition {name!r}")
    return tuple(n for n in names if _known(n, transitions))


def _main_path(initial: str, outgoing: Mapping[str, Iterable[Transition]],
               final: Iterable[str]) -> list[str]:
    """From `initial` to a final state, at each state the first transition forward: never back
    to a state already passed, never `to: same` or an objection step, and (where there is
    another way) no detour: a fixed outcome (a refusal), a pause (waiting for the requester)
    or a stop without a signature (a withdrawal)."""
    final = set(final)
    path = [initial]
    while path[-1] not in final:
        ways = [t for t in outgoing.get(path[-1], ())
                if not t.stays and t.objection is None and t.target not in path]
        forward = [t for t in ways if t.outcome is None and t.sla != "pause"
                   and (t.sla != "stop" or t.letter == "sign")]
        if not (forward or ways):
            break
        path.append((forward or ways)[0].target)
    return path


def _parse_progress(value: Any, states: Mapping[str, State],
                    problems: list[str]) -> tuple[ProgressStep, ...]:
    """`progress:` (optional): the tracker's steps, each a label and the states it covers."""
    if value is None:
        return ()
    if not isinstance(value, list) or not value:
        problems.append("progress: must be a list of steps, each with a label and states")
        return ()
    steps: list[ProgressStep] = []
    seen: dict[str, int] = {}
    for i, spec in enumerate(value, 1):
        where = f"progress step #{i}"
        if not isinstance(spec, dict):
            problems.append(f"{where}: must be a mapping with a label and states")
            continue
        for key in sorted(set(spec) - _PROGRESS_KEYS, key=str):
            problems.append(f"{where}: unknown key {key!r}")
        names = spec.get("states")
        if not isinstance(names, list):
            problems.append(f"{where}: states must be a list of states")
            names = []
        if not names and i > 1:
            problems.append(f"{where}: only the first step (the submission) may have no states")
        for name in names:
            if not _known(name, states):
                problems.append(f"{where}: unknown state {name!r}")
            elif name in seen:
                problems.append(f"{where}: state {name!r} is already in step #{seen[name]}")
            else:
                seen[name] = i
        label = _parse_label(spec.get("label"), where, problems)
        steps.append(ProgressStep(label, tuple(n for n in names if _known(n, states))))
    return tuple(steps)


def _check_progress(progress: tuple[ProgressStep, ...], path: list[str],
                    problems: list[str]) -> None:
    """Every state of the main path is in a step, and the path ends in the last one, so the
    tracker never loses a request on its way."""
    listed = {name for step in progress for name in step.states}
    for name in path:
        if name not in listed:
            problems.append(f"progress: state {name!r} of the main path is in no step "
                            f"({' -> '.join(path)})")
    if path and path[-1] in listed and path[-1] not in progress[-1].states:
        problems.append(f"progress: the last step must hold {path[-1]!r}, where the main "
                        "path ends")


def _parse_label(value: Any, where: str, problems: list[str], what: str = "label") -> Label:
    if not isinstance(value, dict):
        problems.append(f"{where}: missing {what} (a mapping with 'id' and 'en')")
        return Label("", "")
    for key in sorted(set(value) - set(LANGUAGES), key=str):
        problems.append(f"{where}: unknown {what} language {key!r}")
    texts = {}
    for lang in LANGUAGES:
        text = value.get(lang)
        if not isinstance(text, str) or not text.strip():
            problems.append(f"{where}: missing {what} {lang!r}")
            text = ""
        texts[lang] = text.strip()
    return Label(**texts)


def _parse_positions(value: Any, problems: list[str]) -> dict[str, Label]:
    if not isinstance(value, list) or not value:
        problems.append("positions: list at least one position (code and label)")
        return {}
    positions: dict[str, Label] = {}
    for i, item in enumerate(value, 1):
        code = item.get("code") if isinstance(item, dict) else None
        if not isinstance(code, str) or not _NAME_RE.match(code):
            problems.append(f"positions #{i}: code must be snake_case, got {code!r}")
            continue
        where = f"position {code!r}"
        if code in SPECIAL_ACTORS:
            problems.append(f"{where}: {code!r} is reserved for a built-in actor")
        if code in positions:
            problems.append(f"{where}: duplicate position")
        positions[code] = _parse_label(item.get("label"), where, problems)
    return positions


def _parse_superior(
    value: Any, positions: Mapping[str, Label], problems: list[str]
) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append("superior: must be a mapping position -> superior position")
        return {}
    superior: dict[str, str] = {}
    for low, high in value.items():
        bad = [p for p in (low, high) if not _known(p, positions)]
        for p in bad:
            problems.append(f"superior: unknown position {p!r}")
        if not bad:
            superior[low] = high
    in_cycle: set[str] = set()
    for start in superior:  # a cycle would make escalation loop forever
        chain = [start]
        while (nxt := superior.get(chain[-1])) is not None:
            if nxt in chain:
                if nxt == start and start not in in_cycle:  # report each cycle once
                    problems.append("superior: cycle " + " -> ".join([*chain, nxt]))
                    in_cycle.update(chain)
                break
            chain.append(nxt)
    return superior


def _objection_states(value: Any) -> set[str]:
    """States an objection is filed into (raw YAML, read before the states are parsed): their
    clock is `stopped` although they are not final, as the answer's own clock has stopped."""
    if not isinstance(value, list):
        return set()
    return {spec["to"] for spec in value if isinstance(spec, dict)
            and spec.get("objection") == "file" and isinstance(spec.get("to"), str)}


def _parse_states(
    value: Any, final: frozenset[str], actors: set[str], problems: list[str],
    objection_states: set[str] = frozenset(),  # type: ignore[assignment]
) -> dict[str, State]:
    if not isinstance(value, dict) or not value:
        problems.append("states: must be a mapping of state name -> state")
        return {}
    states: dict[str, State] = {}
    for name, spec in value.items():
        where = f"state {name!r}"
        if not isinstance(name, str) or not _NAME_RE.match(name):
            problems.append(f"{where}: name must be snake_case")
            continue
        if name == SAME_STATE:
            problems.append(f"{where}: the name is reserved ('to: same' keeps the state)")
        if not isinstance(spec, dict):
            problems.append(f"{where}: must be a mapping with label, holder and sla")
            continue
        for key in sorted(set(spec) - _STATE_KEYS, key=str):
            problems.append(f"{where}: unknown key {key!r}")
        is_final = name in final
        sla = spec.get("sla")
        if sla not in SLA_FLAGS:
            problems.append(f"{where}: sla must be one of {', '.join(SLA_FLAGS)}, got {sla!r}")
        elif is_final and sla != "stopped":
            problems.append(f"{where}: a final state must have sla 'stopped'")
        elif not is_final and sla == "stopped" and name not in objection_states:
            problems.append(f"{where}: sla 'stopped' is only for final states and objections")
        elif name in objection_states and sla != "stopped":
            problems.append(f"{where}: an objection state must have sla 'stopped' (the "
                            "answer's clock has stopped)")
        holder = spec.get("holder")
        panel = spec.get("panel")
        if panel is not None and panel not in PANELS:
            problems.append(f"{where}: panel must be one of {', '.join(PANELS)}, got {panel!r}")
        elif panel == "answer" and not is_final:
            problems.append(f"{where}: panel 'answer' is for a final state")
        elif panel == "requester_changes" and holder != REQUESTER:
            problems.append(f"{where}: panel 'requester_changes' is for a state the requester "
                            f"({REQUESTER!r}) holds")
        if is_final and holder is not None:
            problems.append(f"{where}: a final state has no holder")
        elif not is_final and not _known(holder, actors):
            problems.append(f"{where}: unknown holder {holder!r}")
        states[name] = State(
            name=name,
            label=_parse_label(spec.get("label"), where, problems),
            sla=sla if isinstance(sla, str) else "",
            holder=holder if isinstance(holder, str) else None,
            final=is_final,
            # optional: the officials' text (label: stays the requester's)
            official=_parse_label(spec["official"], where, problems, "official text")
            if "official" in spec else None,
            panel=panel if panel in PANELS else None,
        )
    return states


def _parse_requirements(value: Any, where: str, problems: list[str]) -> list[Requirement]:
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append(f"{where}: requires must be a list")
        return []
    reqs: list[Requirement] = []
    for item in value:
        if isinstance(item, str):
            if item == "files":
                problems.append(f"{where}: requirement 'files' needs kinds, e.g. files: [result]")
            elif item not in REQUIREMENT_KINDS:
                problems.append(f"{where}: unknown requirement {item!r}")
            else:
                reqs.append(Requirement(item))
        elif isinstance(item, dict) and "files" in item:
            for key in sorted(set(item) - {"files", "or_dataset"}, key=str):
                problems.append(f"{where}: unknown files option {key!r}")
            kinds = item["files"]
            if (not isinstance(kinds, list) or not kinds
                    or not all(isinstance(k, str) and _NAME_RE.match(k) for k in kinds)):
                problems.append(f"{where}: files needs a list of snake_case kinds, got {kinds!r}")
                kinds = []
            or_dataset = item.get("or_dataset", False)
            if not isinstance(or_dataset, bool):
                problems.append(f"{where}: or_dataset must be true or false")
            reqs.append(Requirement("files", tuple(kinds), or_dataset is True))
        else:
            problems.append(f"{where}: unknown requirement {item!r}")
    kinds_seen = [r.kind for r in reqs]
    for kind in sorted({k for k in kinds_seen if kinds_seen.count(k) > 1}):
        problems.append(f"{where}: requirement {kind!r} listed twice")
    return reqs


def _clock(states: Mapping[str, State], name: Any) -> str | None:
    """The sla flag the engine will act on, or None if the state is already reported bad
    (so one wrong flag gives one problem, not one per transition)."""
    if not _known(name, states):
        return None
    state = states[name]
    if state.final:
        return "stopped"
    return state.sla if state.sla in ("running", "paused") else None


def _expected_sla_effect(src: str, dst: str) -> str | None:
    if src == dst or src == "stopped":
        return None
    if dst == "stopped":
        return "stop"
    return "pause" if dst == "paused" else "resume"


def _parse_transitions(
    value: Any,
    states: Mapping[str, State],
    actors: set[str],
    assignee_position: str | None,  # None: unknown, reported already
    problems: list[str],
) -> dict[str, Transition]:
    if not isinstance(value, list) or not value:
        problems.append("transitions: must be a non-empty list")
        return {}
    transitions: dict[str, Transition] = {}
    for i, spec in enumerate(value, 1):
        if not isinstance(spec, dict):
            problems.append(f"transition #{i}: must be a mapping")
            continue
        name = spec.get("name")
        if not isinstance(name, str) or not _NAME_RE.match(name):
            problems.append(f"transition #{i}: name must be snake_case, got {name!r}")
            name = f"#{i}"
        where = f"transition {name!r}"
        if name in transitions:
            problems.append(f"{where}: duplicate transition name")
        for key in sorted(set(spec) - _TRANSITION_KEYS, key=str):
            problems.append(f"{where}: unknown key {key!r}")

        sources = spec.get("from")
        if isinstance(sources, str):
            sources = [sources]
        if not isinstance(sources, list) or not sources:
            problems.append(f"{where}: 'from' must be a state or a list of states")
            sources = []
        for src in sources:
            if not _known(src, states):
                problems.append(f"{where}: unknown state {src!r} in 'from'")
        target = spec.get("to")
        stays = target == SAME_STATE
        if not stays and not _known(target, states):
            problems.append(f"{where}: unknown state {target!r} in 'to'")
        extend_days = _parse_stay(spec, stays, sources, states, where, problems)

        actor = spec.get("actor")
        if not _known(actor, actors):
            problems.append(f"{where}: unknown actor {actor!r}")
        assignee_only = spec.get("assignee_only", False)
        if not isinstance(assignee_only, bool):
            problems.append(f"{where}: assignee_only must be true or false")
        elif assignee_only and assignee_position is not None and actor != assignee_position:
            problems.append(
                f"{where}: assignee_only is only for the assignee position "
                f"{assignee_position!r}, not actor {actor!r}"
            )

        requires = _parse_requirements(spec.get("requires"), where, problems)
        kinds = {r.kind for r in requires}

        visibility = spec.get("visibility")
        if visibility not in VISIBILITIES:
            problems.append(f"{where}: visibility must be public or internal, got {visibility!r}")
        outcome = spec.get("outcome")
        if outcome is not None and outcome not in OUTCOMES:
            problems.append(f"{where}: unknown outcome {outcome!r}")
        if outcome is not None and "outcome" in kinds:
            problems.append(f"{where}: outcome is fixed, so it cannot also be required")
        letter = spec.get("letter")
        if letter is not None and letter not in LETTER_EFFECTS:
            problems.append(f"{where}: unknown letter effect {letter!r}")
        # A paraf or signature is a PDF signature: the signer's passphrase/PIN is needed.
        if letter in ("paraf", "sign") and "signature" not in kinds:
            problems.append(f"{where}: letter {letter!r} requires 'signature'")
        objection = spec.get("objection")
        if "signature" in kinds and letter not in ("paraf", "sign") and objection != "decide":
            problems.append(f"{where}: requires 'signature' but has no letter paraf or sign")
        days = spec.get("days", DEFAULT_OBJECTION_DAYS)
        if objection is not None:
            _check_objection(where, objection, sources, target, actor, kinds, letter,
                             visibility, days, states, problems)
        elif "days" in spec:
            problems.append(f"{where}: days is only for objection steps")
        # `channel`: data an OPD sent outside the portal, recorded by someone else for it
        if "channel" in kinds and not {"opd", "files"} <= kinds:
            problems.append(f"{where}: requires 'channel' needs 'opd' and 'files' too")
        if "channel" in kinds and actor == OPD:
            problems.append(f"{where}: 'channel' is for uploads on an OPD's behalf, "
                            "not by the OPD itself")
        on_behalf_of = spec.get("on_behalf_of")
        if on_behalf_of is not None:
            if letter != "sign":
                problems.append(f"{where}: on_behalf_of is only for a transition with letter sign")
            if not isinstance(on_behalf_of, str) or on_behalf_of not in actors \
                    or on_behalf_of in SPECIAL_ACTORS or on_behalf_of == actor:
                problems.append(f"{where}: on_behalf_of must name another position, "
                                f"got {on_behalf_of!r}")

        sla = spec.get("sla")
        if sla is not None and sla not in SLA_EFFECTS:
            problems.append(f"{where}: unknown sla effect {sla!r}")
        elif stays and sla is not None:
            problems.append(f"{where}: 'to: same' keeps the state and its clock: no sla")
        elif (dst := _clock(states, target)) is not None:
            # The clock is a function of the state; the declared effect must agree with it.
            for src in sources:
                if (src_flag := _clock(states, src)) is not None:
                    expected = _expected_sla_effect(src_flag, dst)
                    if expected != sla:
                        problems.append(
                            f"{where}: from {src!r} ({src_flag}) to {target!r} ({dst}) "
                            f"needs sla {expected or 'unset'}, not {sla or 'unset'}"
                        )

        transitions.setdefault(name, Transition(
            name=name,
            sources=tuple(s for s in sources if isinstance(s, str)),
            target=target if isinstance(target, str) else "",
            actor=actor if isinstance(actor, str) else "",
            label=_parse_label(spec.get("label"), where, problems),
            visibility=visibility if isinstance(visibility, str) else "",
            requires=tuple(requires),
            assignee_only=assignee_only is True,
            sla=sla,
            outcome=outcome,
            letter=letter,
            on_behalf_of=on_behalf_of if isinstance(on_behalf_of, str) else None,
            objection=objection if objection in OBJECTION_STEPS else None,
            days=days if isinstance(days, int) and not isinstance(days, bool) else 0,
            stays=stays,
            extend_days=extend_days,
        ))
    steps = [t.objection for t in transitions.values() if t.objection]
    for step in OBJECTION_STEPS:
        if steps.count(step) > 1:
            problems.append(f"objection: more than one transition with objection {step!r}")
    if bool(steps) and set(steps) != set(OBJECTION_STEPS):
        problems.append("objection: a workflow with objections needs one 'file' and one "
                        "'decide' transition")
    filed_into = {t.target for t in transitions.values() if t.objection == "file"}
    for t in transitions.values():
        if t.objection == "decide" and not set(t.sources) <= filed_into:
            problems.append(f"transition {t.name!r}: objection 'decide' must start where "
                            "objection 'file' leads")
    return transitions


def _parse_stay(spec: dict[str, Any], stays: bool, sources: list[Any],
                states: Mapping[str, State], where: str, problems: list[str]) -> int | None:
    """`to: same` keeps the request where it is (never from a final state); `extend_days: N`
    (with `to: same` only) moves its deadline N working days, so its states' clock must run."""
    for src in sources if stays else ():
        if _known(src, states) and states[src].final:
            problems.append(f"{where}: 'to: same' cannot start from the final state {src!r}")
    if "extend_days" not in spec:
        return None
    days = spec["extend_days"]
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= EXTEND_DAYS_MAX:
        problems.append(f"{where}: extend_days must be a whole number of working days from 1 "
                        f"to {EXTEND_DAYS_MAX}, got {days!r}")
        days = None
    if not stays:
        problems.append(f"{where}: extend_days needs 'to: same' (the request stays in its state)")
    for src in sources:
        if _known(src, states) and not states[src].final and states[src].sla != "running":
            problems.append(f"{where}: extend_days only from states whose clock runs, "
                            f"not {src!r} ({states[src].sla})")
    return days


def _check_objection(where: str, objection: Any, sources: list[Any], target: Any, actor: Any,
                     kinds: set[str], letter: Any, visibility: Any, days: Any,
                     states: Mapping[str, State], problems: list[str]) -> None:
    """An objection step: filed by the requester against a completed answer, decided by a
    position with a signed letter, within a number of working days."""
    if objection not in OBJECTION_STEPS:
        problems.append(f"{where}: objection must be one of {', '.join(OBJECTION_STEPS)}, "
                        f"got {objection!r}")
        return
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 365:
        problems.append(f"{where}: days must be a whole number of working days (1-365)")
    if letter is not None:
        problems.append(f"{where}: an objection step has its own letter, not letter {letter!r}")
    if visibility != "public":
        problems.append(f"{where}: an objection step is public (the requester is told)")
    target_state = states.get(target) if isinstance(target, str) else None
    if objection == "file":
        if actor != REQUESTER:
            problems.append(f"{where}: only the requester ({REQUESTER!r}) files an objection")
        for src in sources:
            if isinstance(src, str) and src in states and not states[src].final:
                problems.append(f"{where}: an objection is filed against a final state, "
                                f"not {src!r}")
        if target_state is not None and target_state.final:
            problems.append(f"{where}: an objection must lead to a state where it is decided")
    else:
        if actor in SPECIAL_ACTORS:
            problems.append(f"{where}: an objection is decided by a position, not {actor!r}")
        if "signature" not in kinds:
            problems.append(f"{where}: the decision is a signed letter: requires 'signature'")
        if target_state is not None and not target_state.final:
            problems.append(f"{where}: the decision must lead to a final state")


def _check_graph(
    initial: Any,
    states: Mapping[str, State],
    outgoing: Mapping[str, list[Transition]],
    actors: set[str],
    problems: list[str],
) -> None:
    for name, state in states.items():
        out = outgoing[name]
        if state.final and any(t.objection != "file" for t in out):
            problems.append(f"final state {name!r} has outgoing transitions: "
                            + ", ".join(t.name for t in out if t.objection != "file"))
        elif not state.final and not out:
            problems.append(f"state {name!r} is a dead end: not final and no transition out")
        elif (state.holder in actors and all(t.actor in actors for t in out)
              and all(t.actor != state.holder for t in out)):  # else reported already
            problems.append(f"state {name!r}: its holder {state.holder!r} has no transition out")

    if _known(initial, states):
        reachable = _reach({initial}, lambda s: [t.target for t in outgoing[s]])
        for name in states:
            if name not in reachable:
                problems.append(f"state {name!r} is unreachable from the initial state "
                                f"{initial!r}")

    # A state with exits that all loop back among themselves traps the request forever.
    incoming: dict[str, list[str]] = {name: [] for name in states}
    for src, out in outgoing.items():
        for t in out:
            incoming[t.target].append(src)
    can_finish = _reach({n for n, s in states.items() if s.final}, lambda s: incoming[s])
    for name, state in states.items():
        if not state.final and outgoing[name] and name not in can_finish:
            problems.append(f"state {name!r} cannot reach a final state")


def _reach(start: set[str], step: Callable[[str], Iterable[str]]) -> set[str]:
    seen = set(start)
    queue = deque(start)
    while queue:
        for nxt in step(queue.popleft()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen
