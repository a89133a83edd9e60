// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.30;

/// @title Data exchange with escrow: a buyer pays for a dataset into the contract; the seller
/// delivers the dataset's decryption key, encrypted to the buyer (a ciphertext only the buyer
/// can open), and is paid; if the seller does not deliver before the deadline, the buyer takes
/// the payment back. The key's correctness is the buyer's to judge off chain: the contract
/// records exactly what was delivered and when, which is the evidence for any dispute.
contract DataEscrow {
    enum State { None, Paid, Delivered, Refunded }

    struct Deal {
        address buyer;
        address payable seller;
        uint256 price;
        uint64 deadline;
        State state;
        bytes32 datasetHash;
        bytes encryptedKey;
    }

    mapping(uint256 => Deal) public deals;
    uint256 public dealCount;

    event Opened(uint256 indexed id, address indexed buyer, address indexed seller,
        uint256 price, uint64 deadline, bytes32 datasetHash);
    event Delivered(uint256 indexed id, bytes encryptedKey);
    event Refunded(uint256 indexed id);

    error NoPayment();
    error DeadlineInPast(uint64 deadline, uint256 now_);
    error WrongState(uint256 id, State state);
    error NotSeller(uint256 id, address caller);
    error NotBuyer(uint256 id, address caller);
    error TooEarly(uint256 id, uint64 deadline, uint256 now_);
    error TooLate(uint256 id, uint64 deadline, uint256 now_);
    error PaymentFailed(address to, uint256 amount);

    /// The buyer opens a deal by paying `msg.value` for `datasetHash` from `seller`, to be
    /// delivered before `deadline` (a block timestamp, seconds).
    function open(address payable seller, bytes32 datasetHash, uint64 deadline)
        external payable returns (uint256 id)
    {
        if (msg.value == 0) revert NoPayment();
        if (deadline <= block.timestamp) revert DeadlineInPast(deadline, block.timestamp);
        id = ++dealCount;
        deals[id] = Deal(msg.sender, seller, msg.value, deadline, State.Paid, datasetHash, "");
        emit Opened(id, msg.sender, seller, msg.value, deadline, datasetHash);
    }

    /// The seller delivers the key (encrypted to the buyer) before the deadline and is paid.
    function deliver(uint256 id, bytes calldata encryptedKey) external {
        Deal storage deal = deals[id];
        if (deal.state != State.Paid) revert WrongState(id, deal.state);
        if (msg.sender != deal.seller) revert NotSeller(id, msg.sender);
        if (block.timestamp > deal.deadline) revert TooLate(id, deal.deadline, block.timestamp);
        deal.state = State.Delivered;
        deal.encryptedKey = encryptedKey;
        emit Delivered(id, encryptedKey);
        _pay(deal.seller, deal.price);
    }

    /// After the deadline without delivery, the buyer takes the payment back.
    function refund(uint256 id) external {
        Deal storage deal = deals[id];
        if (deal.state != State.Paid) revert WrongState(id, deal.state);
        if (msg.sender != deal.buyer) revert NotBuyer(id, msg.sender);
        if (block.timestamp <= deal.deadline) revert TooEarly(id, deal.deadline, block.timestamp);
        deal.state = State.Refunded;
        emit Refunded(id);
        _pay(payable(deal.buyer), deal.price);
    }

    function encryptedKeyOf(uint256 id) external view returns (bytes memory) {
        return deals[id].encryptedKey;
    }

    function _pay(address payable to, uint256 amount) private {
        (bool ok, ) = to.call{value: amount}("");
        if (!ok) revert PaymentFailed(to, amount);
    }
}
