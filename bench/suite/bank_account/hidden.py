import pytest

from bank import BankAccount, InsufficientFunds


def test_failed_withdraw_changes_nothing():
    a = BankAccount("a", 10)
    with pytest.raises(InsufficientFunds):
        a.withdraw(11)
    assert a.balance == 10 and a.history() == []


def test_failed_transfer_moves_nothing():
    a, b = BankAccount("a", 5), BankAccount("b", 1)
    with pytest.raises(InsufficientFunds):
        a.transfer(b, 6)
    assert (a.balance, b.balance) == (5, 1) and b.history() == []


def test_non_positive_amounts_rejected():
    a = BankAccount("a", 100)
    for bad in (0, -5):
        with pytest.raises(ValueError):
            a.deposit(bad)
        with pytest.raises(ValueError):
            a.withdraw(bad)
    assert a.balance == 100


def test_history_is_a_copy():
    a = BankAccount("a")
    a.deposit(1)
    a.history().append(("deposit", 999))
    assert a.history() == [("deposit", 1)]


def test_owner_and_opening_balance_not_in_history():
    a = BankAccount("zoe", 40)
    assert a.owner == "zoe" and a.balance == 40 and a.history() == []
