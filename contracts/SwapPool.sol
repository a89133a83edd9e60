// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.30;

/// @title A constant-product pool (x·y = k, Uniswap v2's formula and 0.3% fee) between two
/// tokens it keeps itself: the swap-like contract of the ordering-power scenario
/// (docs/evm.md). Balances live in the pool (no ERC-20 approvals), and the deployer sets the
/// reserves and its own holdings in the constructor: no liquidity provision, no ether. A swap
/// names the least it accepts (`minOut`), the only defence a trader has against an order
/// placed around its own: it bounds what a front-runner can take from it.
contract SwapPool {
    /// The fee on the amount in, per mille.
    uint256 public constant FEE_PER_MILLE = 3;

    // Storage layout (read slot by slot by the scenario family): 0, 1, then the two maps.
    uint256 public reserve0;
    uint256 public reserve1;
    mapping(address => uint256) public balance0;
    mapping(address => uint256) public balance1;

    event Swap(address indexed trader, bool zeroForOne, uint256 amountIn, uint256 amountOut);
    event Transfer(address indexed from, address indexed to, bool token0, uint256 amount);

    error ZeroAmount();
    error InsufficientBalance(uint256 balance, uint256 needed);
    error Slippage(uint256 amountOut, uint256 minOut);

    constructor(uint256 reserve0_, uint256 reserve1_, uint256 supply0, uint256 supply1) {
        reserve0 = reserve0_;
        reserve1 = reserve1_;
        balance0[msg.sender] = supply0;
        balance1[msg.sender] = supply1;
    }

    /// What `swap(zeroForOne, amountIn, ...)` pays out at the current reserves.
    function quote(bool zeroForOne, uint256 amountIn) public view returns (uint256) {
        (uint256 reserveIn, uint256 reserveOut) =
            zeroForOne ? (reserve0, reserve1) : (reserve1, reserve0);
        uint256 inWithFee = amountIn * (1000 - FEE_PER_MILLE);
        return (inWithFee * reserveOut) / (reserveIn * 1000 + inWithFee);
    }

    /// Sells `amountIn` of token 0 for token 1 (`zeroForOne`) or the reverse; reverts with
    /// `Slippage` if that pays less than `minOut`.
    function swap(bool zeroForOne, uint256 amountIn, uint256 minOut)
        external
        returns (uint256 amountOut)
    {
        if (amountIn == 0) revert ZeroAmount();
        amountOut = quote(zeroForOne, amountIn);
        if (amountOut < minOut) revert Slippage(amountOut, minOut);
        if (zeroForOne) {
            uint256 balance = balance0[msg.sender];
            if (balance < amountIn) revert InsufficientBalance(balance, amountIn);
            balance0[msg.sender] = balance - amountIn;
            balance1[msg.sender] += amountOut;
            reserve0 += amountIn;
            reserve1 -= amountOut;
        } else {
            uint256 balance = balance1[msg.sender];
            if (balance < amountIn) revert InsufficientBalance(balance, amountIn);
            balance1[msg.sender] = balance - amountIn;
            balance0[msg.sender] += amountOut;
            reserve1 += amountIn;
            reserve0 -= amountOut;
        }
        emit Swap(msg.sender, zeroForOne, amountIn, amountOut);
    }

    /// Moves `amount` of token 0 (`token0`) or token 1 held in the pool to `to`.
    function transfer(address to, bool token0, uint256 amount) external {
        mapping(address => uint256) storage balances = token0 ? balance0 : balance1;
        uint256 balance = balances[msg.sender];
        if (balance < amount) revert InsufficientBalance(balance, amount);
        balances[msg.sender] = balance - amount;
        balances[to] += amount;
        emit Transfer(msg.sender, to, token0, amount);
    }
}
