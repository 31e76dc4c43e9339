import { expect } from 'chai';
import { CommandField, decodeCommand, encodeCEchoRq, encodeCEchoRsp, encodeCStoreRq, encodeCStoreRsp } from '../../../../src/dicom/ul/command';
import { ElementReader } from '../../../../src/dicom/element-reader';

describe('dicom/ul/command', () => {
  it('encodes C-STORE-RQ in implicit VR LE with a correct group length and the UIDs exactly as given', () => {
    const odd = '1.2.840.113619.2.55.3.604688119.969.1268071029.32';
    expect(odd.length % 2).to.equal(1);
    const bytes = encodeCStoreRq(7, '1.2.840.10008.5.1.4.1.1.2', odd);
    const els = [...new ElementReader(bytes, { explicitVr: false, littleEndian: true }).elements()];
    expect(els.map((e) => e.tag)).to.deep.equal([0x00000000, 0x00000002, 0x00000100, 0x00000110, 0x00000700, 0x00000800, 0x00001000]);
    expect(bytes.readUInt32LE(8)).to.equal(bytes.length - 12);
    const uid = els[6];
    expect(bytes.toString('latin1', uid.valueStart, uid.valueStart + uid.length)).to.equal(odd + '\0');
  });

  it('decodes a response status, message id and comment', () => {
    const rsp = encodeCEchoRq(3); // same element layout as a response, enough for the decoder
    const c = decodeCommand(rsp);
    expect(c.commandField).to.equal(CommandField.CEchoRq);
    expect(c.hasDataset).to.equal(false);
    const status = Buffer.from([0x00, 0x00, 0x00, 0x09, 2, 0, 0, 0, 0x00, 0xa7, 0x00, 0x00, 0x20, 0x01, 2, 0, 0, 0, 3, 0]);
    expect(decodeCommand(status)).to.deep.include({ status: 0xa700, messageIdBeingRespondedTo: 3 });
  });

  it('decodes what an SCP needs from a C-STORE-RQ: command, message id, UIDs as sent', () => {
    const odd = '1.2.840.113619.2.55.3.604688119.969.1268071029.32';
    expect(decodeCommand(encodeCStoreRq(9, '1.2.840.10008.5.1.4.1.1.4', odd))).to.deep.include({
      commandField: CommandField.CStoreRq,
      messageId: 9,
      affectedSopClassUid: '1.2.840.10008.5.1.4.1.1.4',
      affectedSopInstanceUid: odd,
      hasDataset: true,
    });
  });

  it('encodes C-STORE-RSP and C-ECHO-RSP with the status and the message id they answer', () => {
    const store = decodeCommand(encodeCStoreRsp(9, '1.2.840.10008.5.1.4.1.1.4', '1.2.3', 0xc000));
    expect(store).to.deep.include({
      commandField: CommandField.CStoreRsp,
      messageIdBeingRespondedTo: 9,
      status: 0xc000,
      affectedSopInstanceUid: '1.2.3',
      hasDataset: false,
    });
    const echo = encodeCEchoRsp(4, 0);
    expect(echo.readUInt32LE(8)).to.equal(echo.length - 12);
    expect(decodeCommand(echo)).to.deep.include({ commandField: CommandField.CEchoRsp, messageIdBeingRespondedTo: 4, status: 0 });
  });
});
