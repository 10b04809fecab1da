"""The closed sets of roles and permissions.

Workflow definitions may only name what is listed here; start-up fails otherwise.
Permissions are named ``<type>:<action>``.
"""

#: Pseudo-role held by every signed-in user; it can appear in workflow grants
#: but can never be granted as a local role.
AUTHENTICATED = "authenticated"

#: Roles that can be granted as local roles (resource, principal, role).
GRANTABLE_ROLES = (
    "administrator",   # cabinet administrator
    "professional",    # health professional practising there
    "staff",           # cabinet staff (reception, assistants)
    "patient",         # the patient of a record
    "guardian",        # parent 1, parent 2 or financial guarantor of a minor
    "correspondent",   # another practitioner sharing the patient
    "delegate",        # the secretary named by a delegation (on that delegation)
    "space_admin",     # professional space: administrator
    "space_manager",   # professional space: manager (enter and sign)
    "space_member",    # professional space: member without signature
    "mandatary",       # a provider acting for another company under a mandate
    "site_admin",      # site administrator (held on the root): publishes the terms of use
    # documents (issue #4, cabinet.document_sharing): held on a document shared with
    # its patient / guardians / correspondents (see DERIVED_ROLES)
    "shared_patient",
    "shared_guardian",
    "shared_correspondent",
    # mandates (issue #3, cabinet.mandates): computed, never stored: the provider's
    # members acting under a mandate hold it on that mandate only (not on the mandant's
    # other mandates, of other domains or providers)
    "mandate_holder",
    # questionnaires (issue #5, cabinet.questionnaire_access): computed, never stored:
    # a guardian of a minor on the minor's record where the cabinet opens minors'
    # access for questionnaires (independent of minors' access for documents)
    "questionnaire_guardian",
)

ROLES = (AUTHENTICATED,) + GRANTABLE_ROLES

_ACTIONS = {
    "site": ("view",),
    "folder": ("view",),
    "cabinet": ("view", "edit"),
    "patient": ("view", "edit", "delete", "add"),
    "document": ("view", "edit", "delete", "add", "send", "withdraw", "sign"),
    "questionnaire": ("view", "edit", "delete", "add", "send", "fill", "reopen",
                      "validate", "sign"),
    "questionnaire_template": ("view", "edit", "delete", "add"),
    # configure: a cabinet's appointment types and questionnaire auto-send rules
    "appointment": ("view", "edit", "add", "cancel", "complete", "configure"),
    # messaging (issue #9, P3): view the conversation; send as the patient's side;
    # reply as the cabinet's (and its console); configure its reply templates (K3)
    "message": ("view", "send", "reply", "configure"),
    # payments (issue #9, P2): care items (view, add, edit, delete), paying online
    # (pay), and the payment provider's signed callback (callback: Everyone, the
    # HMAC signature is the credential)
    "payment": ("view", "add", "edit", "delete", "pay", "callback"),
    # imaging (issue #9, P5): an image node, the cabinet's side (view, add, edit,
    # delete); a record's shared images (imaging:view, held on the record by its
    # patient, guardians and cabinet) and the cabinet's selection (imaging:configure)
    "image": ("view", "add", "edit", "delete"),
    "imaging": ("view", "configure"),
    "professional": ("view", "edit"),
    "delegation": ("view", "add", "accept", "end", "cancel", "expire"),
    # enter: fill in procedures in the space; sign: sign them (members by role)
    "space": ("view", "edit", "enter", "sign"),
    # manage: change a member's role (not "edit": no generic field editing)
    "membership": ("view", "add", "accept", "remove", "manage"),
    "mandate": ("view", "add", "activate", "revoke", "expire"),
    "sharing": ("view", "manage"),
    "history": ("view",),
    "permissions": ("view",),
    "terms": ("publish",),
    # set: give an account its certificate serial number (development source only)
    "certificate": ("set",),
}

PERMISSIONS = frozenset(f"{kind}:{action}" for kind, actions in _ACTIONS.items()
                        for action in actions)

#: Permissions that act in someone's name: a delegate gets them only when the
#: delegation's scope says it may sign.
SIGNING_PERMISSIONS = frozenset(p for p in PERMISSIONS if p.endswith(":sign"))

#: Permissions a delegate never receives from the professional: managing the
#: delegations themselves and who may access what.
NEVER_DELEGATED = frozenset({
    "delegation:add", "delegation:accept", "delegation:end", "delegation:cancel",
    "sharing:manage",
})

#: Roles given on a node to whoever holds another role there (issue #4): a local role
#: row (node, principal ``role:<source>``, role) means that every holder of
#: ``<source>`` on the node (granted on it or an ancestor) also holds ``role`` on
#: that node itself (not below it). cabinet.document_sharing writes such rows on the
#: documents shared with the patient, guardians or correspondents of the record;
#: cabinet.security and cabinet.search evaluate them. role -> source role.
DERIVED_ROLES = {
    "shared_patient": "patient",
    "shared_guardian": "guardian",
    "shared_correspondent": "correspondent",
}
