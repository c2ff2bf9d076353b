//! Who may do what with a document: the hub's one access decision, a plain
//! function of where the user stands with the document and what they ask,
//! so every combination is tested alone (below) and the hub only applies
//! the answer.

use crate::sharing::Role;

/// Where a user stands with one document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// It is theirs.
    Owner,
    /// Shared with them to change.
    Writer,
    /// Shared with them to read.
    Reader,
    /// Someone else's, not shared with them.
    Stranger,
    /// Nothing is stored under that ID.
    Unknown,
    /// New here, and a device of theirs is creating it: its first change
    /// makes it theirs.
    Creating,
    /// New here, and another user's device is creating it.
    CreatedByOther,
    /// Deleted by its owner; it never comes back.
    Deleted,
}

impl Standing {
    /// A user's standing with a stored document, from their role in it.
    pub fn of_role(role: Option<Role>) -> Self {
        match role {
            Some(Role::Owner) => Standing::Owner,
            Some(Role::Writer) => Standing::Writer,
            Some(Role::Reader) => Standing::Reader,
            None => Standing::Stranger,
        }
    }
}

/// What a user's device (or the server on the user's behalf) asks to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    /// A `request`: the device asks for a document it does not have.
    Request { changes: bool },
    /// A `sync` message: the device has the document.
    Sync { changes: bool },
    /// An ephemeral message for the others on the document (presence).
    Ephemeral,
    /// A change the server writes for the user (their root document).
    Change,
    /// Deleting the document.
    Delete,
}

/// The answer, as the hub carries it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Go ahead: apply and answer, relay, change or delete.
    Allow,
    /// Apply it to a document new here: its first change makes it the
    /// user's, unless someone else's arrived first.
    Claim,
    /// Keep the device waiting for the document and give it the document if
    /// its own user creates it. `tell_unavailable`: say `doc-unavailable`
    /// now; not said while another device of the same user is uploading it,
    /// since the data follows (as automerge-repo's own server waits).
    Wait { tell_unavailable: bool },
    /// A reader's change: none of it is kept, and an `error` says why.
    RefuseChange,
    /// `doc-unavailable` and nothing else, so a stranger learns nothing.
    Unavailable,
}

/// The hub's one access decision.
pub fn decide(standing: Standing, act: Act) -> Decision {
    use Standing::*;
    match (standing, act) {
        (Owner | Writer, Act::Request { .. } | Act::Sync { .. } | Act::Ephemeral) => {
            Decision::Allow
        }
        (Reader, Act::Request { changes } | Act::Sync { changes }) => {
            if changes {
                Decision::RefuseChange
            } else {
                Decision::Allow
            }
        }
        (Reader, Act::Ephemeral) => Decision::Allow,
        // Only the owner changes a document through the server or deletes it.
        (Owner, Act::Change | Act::Delete) => Decision::Allow,
        (Writer | Reader, Act::Change | Act::Delete) => Decision::Unavailable,
        // A request asks for data nobody here has; only a device that has
        // the document (a sync) can start it here.
        (Unknown | CreatedByOther, Act::Request { .. }) => Decision::Wait {
            tell_unavailable: true,
        },
        (Creating, Act::Request { .. }) => Decision::Wait {
            tell_unavailable: false,
        },
        (Unknown | Creating, Act::Sync { .. }) => Decision::Claim,
        // Ephemeral messages go only between members, so they leak nothing.
        (Unknown | Creating | CreatedByOther, Act::Ephemeral | Act::Change | Act::Delete) => {
            Decision::Unavailable
        }
        (CreatedByOther, Act::Sync { .. }) => Decision::Unavailable,
        (Stranger | Deleted, _) => Decision::Unavailable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Decision::*;

    const STANDINGS: [Standing; 8] = [
        Standing::Owner,
        Standing::Writer,
        Standing::Reader,
        Standing::Stranger,
        Standing::Unknown,
        Standing::Creating,
        Standing::CreatedByOther,
        Standing::Deleted,
    ];

    const ACTS: [Act; 7] = [
        Act::Request { changes: false },
        Act::Request { changes: true },
        Act::Sync { changes: false },
        Act::Sync { changes: true },
        Act::Ephemeral,
        Act::Change,
        Act::Delete,
    ];

    const WAIT: Decision = Wait {
        tell_unavailable: true,
    };
    const WAIT_QUIETLY: Decision = Wait {
        tell_unavailable: false,
    };
    const NO: Decision = Unavailable;

    /// One row per standing, one column per act, in the order of `ACTS`:
    /// request, request with changes, sync, sync with changes, ephemeral,
    /// server change, delete.
    const TABLE: [(Standing, [Decision; 7]); 8] = [
        (
            Standing::Owner,
            [Allow, Allow, Allow, Allow, Allow, Allow, Allow],
        ),
        (
            Standing::Writer,
            [Allow, Allow, Allow, Allow, Allow, NO, NO],
        ),
        (
            Standing::Reader,
            [Allow, RefuseChange, Allow, RefuseChange, Allow, NO, NO],
        ),
        (Standing::Stranger, [NO, NO, NO, NO, NO, NO, NO]),
        (Standing::Unknown, [WAIT, WAIT, Claim, Claim, NO, NO, NO]),
        (
            Standing::Creating,
            [WAIT_QUIETLY, WAIT_QUIETLY, Claim, Claim, NO, NO, NO],
        ),
        (Standing::CreatedByOther, [WAIT, WAIT, NO, NO, NO, NO, NO]),
        (Standing::Deleted, [NO, NO, NO, NO, NO, NO, NO]),
    ];

    #[test]
    fn every_standing_and_act_has_the_decision_of_the_table() {
        assert_eq!(TABLE.map(|(standing, _)| standing), STANDINGS);
        for (standing, row) in TABLE {
            for (act, expected) in ACTS.into_iter().zip(row) {
                assert_eq!(decide(standing, act), expected, "{standing:?} {act:?}");
            }
        }
    }

    #[test]
    fn a_stored_documents_roles_are_standings() {
        assert_eq!(Standing::of_role(Some(Role::Owner)), Standing::Owner);
        assert_eq!(Standing::of_role(Some(Role::Writer)), Standing::Writer);
        assert_eq!(Standing::of_role(Some(Role::Reader)), Standing::Reader);
        assert_eq!(Standing::of_role(None), Standing::Stranger);
    }
}
