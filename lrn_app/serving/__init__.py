"""Once per server process: start-up (the pages' modules imported, then gc.freeze), the
threads torch runs on, the stores every session shares, and the training workers.
"""
