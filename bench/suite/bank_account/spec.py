class InsufficientFunds(Exception):
    """Raised when an account cannot pay."""

    code = "insufficient_funds"


class BankAccount:
    """An account with a balance in cents and a history of its movements.

    >>> a = BankAccount("ann")
    >>> a.deposit(500)
    >>> b = BankAccount("bob")
    >>> a.transfer(b, 200)
    >>> a.balance, b.balance
    (300, 200)
    """

    def __init__(self, owner, balance=0):
        """An account of ``owner`` opened with ``balance`` cents."""

    @property
    def balance(self):
        """The current balance in cents.

        >>> BankAccount("x", 70).balance
        70
        """

    def deposit(self, amount):
        """Add ``amount`` cents (positive; ValueError otherwise).

        >>> a = BankAccount("x")
        >>> a.deposit(10)
        >>> a.deposit(5)
        >>> a.balance
        15
        """

    def withdraw(self, amount):
        """Take ``amount`` cents out (positive; ValueError otherwise); InsufficientFunds
        when the balance is smaller, and then nothing changes.

        >>> a = BankAccount("x", 100)
        >>> a.withdraw(30)
        >>> a.balance
        70
        >>> try:
        ...     a.withdraw(100)
        ... except InsufficientFunds as exc:
        ...     print(exc, a.balance)
        balance 70 < 100 70
        """

    def transfer(self, other, amount):
        """Move ``amount`` cents to the account ``other`` (as a withdrawal here and a
        deposit there; nothing moves when this account cannot pay).

        >>> a, b = BankAccount("a", 50), BankAccount("b")
        >>> a.transfer(b, 50)
        >>> a.history(), b.history()
        ([('withdraw', 50)], [('deposit', 50)])
        """

    def history(self):
        """The movements so far as (kind, amount) pairs, oldest first.

        >>> a = BankAccount("x")
        >>> a.deposit(3)
        >>> a.withdraw(1)
        >>> a.history()
        [('deposit', 3), ('withdraw', 1)]
        """
