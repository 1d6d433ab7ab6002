"""The AMQP client of the hub: topology, confirmed publisher, ack-after-commit consumer.

Imports ``schemas`` and libraries only, never ``hub``. Import from the modules themselves
(``adapters.amqp.topology``, ``.publisher``, ``.consumer``, ``.connection``): the package
imports nothing, so ``python -m adapters.amqp.topology`` runs cleanly.
"""
