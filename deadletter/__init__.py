"""Dead letters and resends: holding, releasing and sending messages again, audited.

Empty in the walking skeleton: a message that exhausts its retries is marked ``dead`` in the store
by the delivery worker; listing, discarding and resending them arrive with the issues for delivery
semantics and support staff.
"""
